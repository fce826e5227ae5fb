// Progressive enhancement only: every flow works without this file.
document.addEventListener('DOMContentLoaded', function () {
  // Move focus to the error summary so screen readers announce the errors first.
  var summary = document.querySelector('.error-summary');
  if (summary) { summary.focus(); }
});
