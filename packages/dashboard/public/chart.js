// A small SVG line chart drawn here, so the UI needs no charting library and no network.
(function () {
  const NS = 'http://www.w3.org/2000/svg';
  function el(name, attrs) {
    const e = document.createElementNS(NS, name);
    for (const k in attrs) e.setAttribute(k, String(attrs[k]));
    return e;
  }
  /** series: [{ name, color, values: number[] }], labels: string[] */
  window.drawChart = function (series, labels, width, height) {
    const svg = el('svg', {
      width,
      height,
      viewBox: `0 0 ${width} ${height}`,
      role: 'img',
      'aria-label': 'throughput chart',
    });
    const pad = 30;
    const max = Math.max(1, ...series.flatMap((s) => s.values));
    const n = Math.max(2, labels.length);
    const x = (i) => pad + (i * (width - 2 * pad)) / (n - 1);
    const y = (v) => height - pad - (v * (height - 2 * pad)) / max;
    svg.appendChild(el('line', { x1: pad, y1: height - pad, x2: width - pad, y2: height - pad, stroke: '#999' }));
    svg.appendChild(el('line', { x1: pad, y1: pad, x2: pad, y2: height - pad, stroke: '#999' }));
    const top = el('text', { x: 2, y: pad, 'font-size': 10 });
    top.textContent = String(max);
    svg.appendChild(top);
    series.forEach((s, k) => {
      const pts = s.values.map((v, i) => `${x(i)},${y(v)}`).join(' ');
      svg.appendChild(el('polyline', { points: pts, fill: 'none', stroke: s.color, 'stroke-width': 2 }));
      const t = el('text', { x: width - pad - 80, y: pad + 12 * k, fill: s.color, 'font-size': 11 });
      t.textContent = s.name;
      svg.appendChild(t);
    });
    if (labels.length > 0) {
      const a = el('text', { x: pad, y: height - 8, 'font-size': 10 });
      a.textContent = labels[0];
      const b = el('text', { x: width - pad - 50, y: height - 8, 'font-size': 10 });
      b.textContent = labels[labels.length - 1];
      svg.appendChild(a);
      svg.appendChild(b);
    }
    return svg;
  };
})();
