// gdviz's one Plotly loader, put in front of each component's own script (gdviz.ui.live_chart.component_js,
// which declares PLOTLY_SRC): Plotly is fetched once per page from the app's static folder, by whichever
// component's script the browser evaluates first, at once (see the end of this file): the bundle is on its
// way before any component has mounted, while Python still computes the charts.

const loaded = (window.__gdvizPlotly = window.__gdvizPlotly || {});
const cameras = (window.__gdvizCameras = window.__gdvizCameras || {});

function loadPlotly(src) {
  if (window.Plotly) return Promise.resolve(memoizeArrayAttributes(window.Plotly));
  if (!loaded.promise) {
    loaded.promise = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = new URL(src, document.baseURI).href;
      script.async = true;
      script.onload = () => resolve(memoizeArrayAttributes(window.Plotly));
      script.onerror = () => {
        loaded.promise = null;
        reject(new Error("could not load " + src));
      };
      document.head.appendChild(script);
    });
  }
  return loaded.promise;
}


// Plotly re-derives every trace's list of array attributes (PlotSchema.findArrayAttributes: a crawl of the
// trace type's whole attribute schema) on every calc, and Plotly.animate calcs every trace of a chart on every
// frame: with the Playground's six 2D charts in sight that crawl was a fifth of Play's CPU (CDP profile).
// For the traces a player drew (``memoTraces``) the answer is kept per input trace object: a player only ever
// moves arrays into arrays (x, y, z, text), so which attributes hold arrays never changes; a new run's
// Plotly.react brings new trace objects, which are crawled afresh. Other charts keep Plotly's own path.
function memoizeArrayAttributes(Plotly) {
  const schema = Plotly && Plotly.PlotSchema;
  if (!schema || typeof schema.findArrayAttributes !== "function" || loaded.memoTraces) return Plotly;
  const crawl = schema.findArrayAttributes;
  const memo = new WeakMap();
  loaded.memoTraces = new WeakSet();
  loaded.findArrayAttributes = crawl; // the original, for tests
  schema.findArrayAttributes = function (trace) {
    const input = trace && trace._input;
    if (!input || !loaded.memoTraces.has(input)) return crawl.apply(this, arguments);
    let attrs = memo.get(input);
    if (!attrs) {
      attrs = crawl.apply(this, arguments);
      memo.set(input, attrs);
    }
    return attrs.slice();
  };
  return Plotly;
}

// Start at once, when the browser evaluates this component's script, not when a component mounts: Streamlit
// runs the script first and mounts the component one or more tasks later, on a main thread busy rendering
// the page. (A failure here is retried by the first chart that needs Plotly.)
loadPlotly(PLOTLY_SRC).catch(() => {});
