// The attendance sheet's « Imprimer » button (no inline script: the content policy forbids it).
document.querySelectorAll("[data-print]").forEach(function (b) {
  b.addEventListener("click", function () { window.print(); });
});
