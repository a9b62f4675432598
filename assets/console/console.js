// Keyboard shortcuts of the console: "/" focuses the client search, "n" opens a new client
// (both announced with aria-keyshortcuts); never while typing in a field.
document.addEventListener("keydown", (event) => {
  const target = event.target;
  const typing = target instanceof HTMLElement &&
    (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
  if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.key === "/") {
    const search = document.getElementById("q");
    if (search) { event.preventDefault(); search.focus(); search.select(); }
    else { window.location.href = "/clients"; }
  } else if (event.key === "n") {
    const create = document.getElementById("new-individual");
    if (create) { event.preventDefault(); create.click(); }
  }
});

// A form marked data-autosubmit (the landing of an OIDC sign-in) is sent at once; without
// script its button does the same.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("form[data-autosubmit]");
  if (form) form.requestSubmit();
});
