// gdviz behind the proxy (deploy/): rerun the page after the connection came back.
//
// When the app process holding this page's session stops, Streamlit's client shows "Connecting" and opens
// a new websocket; HAProxy sends it to another process, which makes a new, empty session. Streamlit's
// client asks that session for nothing: the page still shows the old view, and a click inside a fragment
// (the Playground's Step) names a fragment the new session does not know, so it does nothing. This watches
// the status widget; once a "Connecting" has passed, it sends one trigger with the name of the process it
// was on (gdviz.ui.replica compares it with its own), whose rerun rebuilds the view from the URL on
// whichever process now holds the session. The element itself takes no room on the page.

export default function (component) {
  const { data, setTriggerValue, parentElement } = component;
  const box = parentElement.closest('[data-testid="stElementContainer"]');
  if (box) box.style.display = "none";
  const watch = window.__gdvizReplica || { lost: false, timer: null };
  window.__gdvizReplica = watch;
  watch.send = setTriggerValue; // the current mount's: a rerun re-mounts the component
  watch.server = (data && data.server) || ""; // the process that rendered this page last
  if (watch.timer === null) {
    watch.timer = setInterval(() => {
      const status = document.querySelector('[data-testid="stStatusWidget"]');
      const connecting = !!status && /connecting/i.test(status.textContent || "");
      if (connecting) {
        watch.lost = true;
      } else if (watch.lost) {
        watch.lost = false;
        setTimeout(() => watch.send("reconnected", watch.server), 300);
      }
    }, 250);
  }
}
