/* The browser half of exhibit_crm/charts.py, bundled there with vega, vega-lite and vega-embed. It draws every
   <div class="chart" data-spec='…'> of a page once the page is read, and gives a page's own script window.Charts to
   reach a chart and replace its data. Only `vegaEmbed` is used: the bundler's `vega` is not vega's namespace (it
   imports a default export vega does not have), and everything needed is on vega-embed or on the view it returns. */

// Vega compiles expressions into functions with `new Function` unless told otherwise, and the site's policy
// (script-src 'self') forbids that: with `ast`, vega-embed parses them to syntax trees and runs them with vega's
// expression interpreter, which it carries.
const OPTIONS = {actions: false, renderer: "svg", mode: "vega-lite", ast: true};

// Draws a Vega-Lite definition into an element; resolves to the vega view.
function draw(element, spec) {
  return vegaEmbed(element, spec, OPTIONS).then((result) => result.view);
}

// The definition an element carries; its label becomes the description vega writes back as the element's label.
function specOf(element) {
  const spec = JSON.parse(element.getAttribute("data-spec"));
  if (!spec.description && element.getAttribute("aria-label")) spec.description = element.getAttribute("aria-label");
  return spec;
}

// The view of a chart element, drawn from its data-spec the first time it is asked for.
function view(element) {
  if (!element.chartView) {
    element.chartView = draw(element, specOf(element)).then(
      (drawn) => { element.setAttribute("data-chart", "drawn"); return drawn; },
      (error) => { element.setAttribute("data-chart", "failed"); throw error; });
  }
  return element.chartView;
}

// Replaces every row of the chart's named dataset and redraws it: the definition stays as the server made it.
function replace(element, name, rows) {
  return view(element).then((drawn) => drawn.data(name, rows).runAsync());
}

// Draws every chart element under root (the document by default); a chart that fails is reported, not fatal.
function drawAll(root) {
  const elements = Array.from((root || document).querySelectorAll("div.chart[data-spec]"));
  return Promise.all(elements.map((element) => view(element).catch((error) => console.error("chart:", error))));
}

window.Charts = {draw, view, replace, drawAll};
if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", () => drawAll());
} else {
  drawAll();
}
