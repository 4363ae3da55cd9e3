// Read in <head>, before the first paint: says that scripts run, so that the style sheet can lay a
// page out as its scripts will (the catalogue's filters folded on a phone) instead of moving it once
// they have run (a layout shift of the whole page on a slow phone).
document.documentElement.classList.add("si-js");
