// Review queue: a « select all on this page » box, shown only when scripts run (the form works without it).
(function () {
  var all = document.getElementById('select-all');
  if (!all) return;
  all.parentElement.hidden = false;
  var boxes = Array.prototype.slice.call(document.querySelectorAll('input.si-select'));
  all.addEventListener('change', function () {
    boxes.forEach(function (b) { b.checked = all.checked; });
  });
  boxes.forEach(function (b) {
    b.addEventListener('change', function () {
      all.checked = boxes.every(function (x) { return x.checked; });
    });
  });
})();
