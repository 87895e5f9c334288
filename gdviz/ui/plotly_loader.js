// gdviz's one Plotly loader, put in front of each component's own script (gdviz.ui.live_chart.component_js):
// Plotly is fetched once per page from the app's static folder, by whichever component asks first. The
// "Copy link" box in the sidebar, the first gdviz element on every page, asks at once, so the bundle is
// on its way while Python still computes the charts.

const loaded = (window.__gdvizPlotly = window.__gdvizPlotly || {});
const cameras = (window.__gdvizCameras = window.__gdvizCameras || {});

function loadPlotly(src) {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  if (!loaded.promise) {
    loaded.promise = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = new URL(src, document.baseURI).href;
      script.async = true;
      script.onload = () => resolve(window.Plotly);
      script.onerror = () => {
        loaded.promise = null;
        reject(new Error("could not load " + src));
      };
      document.head.appendChild(script);
    });
  }
  return loaded.promise;
}

