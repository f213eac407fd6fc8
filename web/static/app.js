// Progressive enhancement only: every page works without this script.
// "Select all" in the inbox: the checkbox stays hidden when scripts do not run.
document.addEventListener('DOMContentLoaded', () => {
  const all = document.getElementById('select-all');
  if (!all) return;
  const boxes = () => Array.from(document.querySelectorAll('input[name="doc"]'));
  all.hidden = false;
  all.addEventListener('change', () => boxes().forEach((b) => { b.checked = all.checked; }));
});
