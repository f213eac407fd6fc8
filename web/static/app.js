// Progressive enhancement only: every page works without this script.
// "Select all" in the inbox: above the list at every width (on a phone the table's
// header row is not shown), and hidden (so not focusable) when scripts do not run.
document.addEventListener('DOMContentLoaded', () => {
  const all = document.getElementById('select-all');
  const row = document.getElementById('select-all-row');
  if (!all || !row) return;
  const boxes = () => Array.from(document.querySelectorAll('input[name="doc"]'));
  row.hidden = false;
  all.addEventListener('change', () => boxes().forEach((b) => { b.checked = all.checked; }));
});
