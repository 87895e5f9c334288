// gdviz custom plotly.js bundle: core (includes scatter) + the trace types the app uses.
'use strict';

var Plotly = require('plotly.js/lib/core');

Plotly.register([
    require('plotly.js/lib/scatter3d'),
    require('plotly.js/lib/surface'),
    require('plotly.js/lib/contour'),
    require('plotly.js/lib/heatmap'),
    require('plotly.js/lib/bar')
]);

window.Plotly = Plotly;
module.exports = Plotly;
