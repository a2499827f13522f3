// Renders every <script type="application/json" data-chart="ID"> Vega-Lite spec into
// the element with that id. Pages put the spec in the HTML (server-side), so a chart
// needs no extra request; a <table> next to each chart carries the same numbers for
// screen readers and for printing.
(function () {
  function render(root) {
    root.querySelectorAll('script[type="application/json"][data-chart]').forEach(function (node) {
      var target = document.getElementById(node.dataset.chart);
      if (!target || target.dataset.rendered) return;
      target.dataset.rendered = "1";
      vegaEmbed(target, JSON.parse(node.textContent), { actions: false, renderer: "svg" })
        .catch(function (err) { target.textContent = "Chart could not be drawn: " + err; });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { render(document); });
  document.addEventListener("htmx:afterSwap", function (e) { render(e.target); });
})();
