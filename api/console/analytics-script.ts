// The analytics page's own script, served as /console/assets/analytics.js (a string here, as the stylesheet
// is, so the compiled API carries it). It draws each section's chart with Chart.js (served from its npm
// package, /console/assets/chart.umd.min.js) from the section's own table: the table is the data and the
// accessible fallback, so chart and table cannot disagree, and without script the tables are all there is.
//
// A section opts in with `data-chart` (bar, line), `data-chart-axis="y"` for horizontal bars and
// `data-chart-stacked`; the table's columns to draw carry `data-series` (their header, or
// `data-series-label`, names the series), each row's label is its row header, and each cell to draw carries
// `data-series` and a numeric `data-value`.
import { createHash } from 'node:crypto';

export const ANALYTICS_SCRIPT = `(function () {
  'use strict';
  // Colours with at least 3:1 contrast against white (WCAG 1.4.11, graphical objects).
  var palette = ['#0b57a4', '#0f6b2f', '#a0161b', '#8a4b00', '#5b3a98', '#006d75'];
  var reduceMotion = window.matchMedia && window.matchMedia('(prefers-reduced-motion: reduce)').matches;

  function draw(section) {
    var canvas = section.querySelector('canvas');
    var table = section.querySelector('table');
    if (!canvas || !table || typeof window.Chart !== 'function') return;
    var rows = Array.prototype.slice.call(table.querySelectorAll('tbody tr'));
    var labels = rows.map(function (row) {
      var header = row.querySelector('th');
      return header ? header.textContent.trim() : '';
    });
    var columns = Array.prototype.slice.call(table.querySelectorAll('thead th[data-series]'));
    var datasets = columns.map(function (column, index) {
      var series = column.getAttribute('data-series');
      var colour = palette[index % palette.length];
      return {
        label: (column.getAttribute('data-series-label') || column.textContent).trim(),
        data: rows.map(function (row) {
          var cell = row.querySelector('td[data-series="' + series + '"]');
          var value = cell ? Number(cell.getAttribute('data-value')) : 0;
          return isFinite(value) ? value : 0;
        }),
        backgroundColor: colour,
        borderColor: colour,
      };
    });
    var stacked = section.hasAttribute('data-chart-stacked');
    new window.Chart(canvas, {
      type: section.getAttribute('data-chart') || 'bar',
      data: { labels: labels, datasets: datasets },
      options: {
        animation: reduceMotion ? false : undefined,
        indexAxis: section.getAttribute('data-chart-axis') === 'y' ? 'y' : 'x',
        maintainAspectRatio: false,
        responsive: true,
        scales: { x: { stacked: stacked, beginAtZero: true }, y: { stacked: stacked, beginAtZero: true } },
        plugins: { legend: { display: datasets.length > 1 } },
      },
    });
    section.setAttribute('data-chart-drawn', 'true');
  }

  function drawAll() {
    Array.prototype.forEach.call(document.querySelectorAll('section[data-chart]'), draw);
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', drawAll);
  else drawAll();
})();
`;

export const ANALYTICS_SCRIPT_ETAG = `"${createHash('sha256').update(ANALYTICS_SCRIPT).digest('hex').slice(0, 16)}"`;
