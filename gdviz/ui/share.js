// gdviz "Copy link": the address of the current view, always current, with a button that copies it.
//
// The view lives in the URL's query (gdviz.ui.share writes it, also from inside fragments such as the
// Playground's stepping), so the box reads window.location itself rather than a URL the server rendered
// before the last step. It re-reads it twice a second: Streamlit changes the query with history.pushState,
// which fires no event.

// Also, once per window: on a phone-sized screen, tapping a page in the sidebar closes the sidebar, so the
// page shows. Streamlit does that itself only when the user agent says "mobile"; a narrow window (a phone
// asking for the desktop site, a split screen) kept the sidebar open over the page it had just opened.
const PHONE = "(max-width: 640px)";

function closeSidebarAfterNavigation() {
  if (window.__gdvizNavCloser) return;
  window.__gdvizNavCloser = true;
  document.addEventListener(
    "click",
    (event) => {
      const link = event.target.closest && event.target.closest('[data-testid="stSidebarNav"] a');
      if (!link || !window.matchMedia(PHONE).matches) return;
      setTimeout(() => {
        const sidebar = document.querySelector('[data-testid="stSidebar"]');
        const close = document.querySelector('[data-testid="stSidebarCollapseButton"] button');
        if (sidebar && sidebar.getAttribute("data-collapsed") !== "true" && close) close.click();
      }, 50);
    },
    true,
  );
}

export default function (component) {
  const { data, parentElement } = component;
  closeSidebarAfterNavigation();
  if (data && data.plotly) loadPlotly(data.plotly).catch(() => {}); // the charts' bundle, early (plotly_loader.js)
  let root = parentElement.querySelector(".gdviz-share");
  if (!root) {
    root = document.createElement("div");
    root.className = "gdviz-share";
    root.style.cssText = "display:flex;flex-wrap:wrap;gap:0.4rem;align-items:center;margin:0.1rem 0 0.3rem 0";
    const input = document.createElement("input");
    input.type = "text";
    input.readOnly = true;
    input.setAttribute("aria-label", "Link to this view");
    input.setAttribute("data-testid", "gdviz-share-url");
    input.style.cssText =
      "flex:1 1 100%;min-width:0;font:0.8rem monospace;padding:0.3rem 0.4rem;border:1px solid #bbb;" +
      "border-radius:0.3rem;background:#fff;color:#222";
    input.addEventListener("focus", () => input.select());
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = "Copy link";
    button.setAttribute("data-testid", "gdviz-share-copy");
    button.style.cssText =
      "flex:0 0 auto;padding:0.3rem 0.7rem;border:1px solid #0072B2;border-radius:0.4rem;background:#fff;" +
      "color:#0072B2;font-size:0.85rem;cursor:pointer;white-space:nowrap";
    const status = document.createElement("span");
    status.setAttribute("role", "status");
    status.style.cssText = "position:absolute;left:-9999px";
    button.addEventListener("click", async () => {
      const url = current();
      input.value = url;
      let ok = false;
      try {
        await navigator.clipboard.writeText(url);
        ok = true;
      } catch (err) {
        input.focus();
        input.select();
        try {
          ok = document.execCommand("copy");
        } catch (err2) {
          ok = false;
        }
      }
      button.textContent = ok ? "Copied" : "Select and copy";
      status.textContent = ok ? "Link copied" : "Copy the selected link";
      setTimeout(() => (button.textContent = "Copy link"), 1500);
    });
    root.append(input, button, status);
    parentElement.appendChild(root);
  }
  const input = root.querySelector("input");
  const fallback = data && data.url ? data.url : "";
  function current() {
    return window.location && window.location.href ? window.location.href : fallback;
  }
  input.value = current();
  clearInterval(root.__gdvizTimer);
  root.__gdvizTimer = setInterval(() => {
    const url = current();
    if (input.value !== url && document.activeElement !== input) input.value = url;
  }, 500);
  return () => clearInterval(root.__gdvizTimer);
}
