"use strict";
(function () {
const NS = "http://www.w3.org/2000/svg";
const D = JSON.parse(document.getElementById("tcpscope-data").textContent);
const COLORS = {
	SYN_SENT: "#e8a33d", SYN_RECV: "#f2c14e", ESTABLISHED: "#4caf50",
	FIN_WAIT1: "#42a5f5", FIN_WAIT2: "#1e88e5", CLOSE_WAIT: "#ab47bc",
	LAST_ACK: "#ec407a", CLOSING: "#8d6e63", TIME_WAIT: "#9e9e9e",
	LISTEN: "#26a69a", CLOSE: "#616161", UNKNOWN: "#bdbdbd"
};
const MARKS = { retransmit: "#ff6f00", "SYN-ACK retransmit": "#ff6f00",
	"RST sent": "#d32f2f", "RST received": "#b71c1c", drop: "#6a1b9a" };
const ROW = 16, LABEL = 270, AXIS = 24;
let view = [0, Math.max(D.span_us, 1)];
let order = "worst";

function el(tag, attrs, text) {
	const e = document.createElementNS(NS, tag);
	for (const k in attrs) e.setAttribute(k, attrs[k]);
	if (text !== undefined) e.textContent = text;
	return e;
}
function h(tag, text, cls) {
	const e = document.createElement(tag);
	if (text !== undefined) e.textContent = text;
	if (cls) e.className = cls;
	return e;
}
function fmtUs(us) {
	if (us === null || us === undefined) return "-";
	if (us < 1000) return us.toFixed(0) + " \u00b5s";
	if (us < 1e6) return (us / 1000).toFixed(3) + " ms";
	return (us / 1e6).toFixed(3) + " s";
}
function byId(id) { return document.getElementById(id); }

function shown() {
	const port = byId("f-port").value.trim();
	const proc = byId("f-proc").value.trim().toLowerCase();
	const kind = byId("f-close").value;
	let list = D.conns.filter(function (c) {
		if (port && String(c.lport) !== port && String(c.rport) !== port) return false;
		if (proc && (c.comm || "").toLowerCase().indexOf(proc) < 0 && String(c.pid) !== proc) return false;
		if (kind && c.close !== kind) return false;
		return true;
	});
	if (order === "start") list = list.slice().sort(function (a, b) { return a.start - b.start; });
	return list;
}

function details(c) {
	const box = byId("details");
	box.textContent = "";
	box.appendChild(h("h3", "conn " + c.id + "  " + c.role + "  " + (c.comm || "owner unknown") +
		(c.pid ? "[" + c.pid + "]" : "")));
	box.appendChild(h("div", c.l + " \u2192 " + c.r + "   close=" + c.close +
		"   handshake " + fmtUs(c.hs) + "   lifetime " + fmtUs(c.life) +
		"   retransmits " + c.rtx + "   resets " + c.rst));
	const t = h("table");
	const hr = h("tr");
	["time", "change", "step"].forEach(function (x) { hr.appendChild(h("th", x)); });
	t.appendChild(hr);
	const rows = [];
	c.steps.forEach(function (s) {
		rows.push([s[0], s[1] + " \u2192 " + s[2], s[3] + (s[4] && s[3].indexOf("inferred") < 0 ? " (inferred)" : "")]);
	});
	c.marks.forEach(function (m) { rows.push([m[0], m[1], "in " + m[3] + (m[2] > 1 ? " \u00d7" + m[2] : "")]); });
	rows.sort(function (a, b) { return a[0] - b[0]; });
	rows.forEach(function (r) {
		const tr = h("tr");
		tr.appendChild(h("td", "+" + fmtUs(r[0] - c.start)));
		tr.appendChild(h("td", r[1]));
		tr.appendChild(h("td", r[2]));
		t.appendChild(tr);
	});
	box.appendChild(t);
}

function render() {
	const list = shown();
	const svg = byId("chart");
	const width = Math.max(svg.parentNode.clientWidth, 600);
	const plot = width - LABEL - 10;
	const restRows = D.rest.count ? 1 : 0;
	const height = AXIS + (list.length + restRows) * ROW + 4;
	svg.textContent = "";
	svg.setAttribute("width", width);
	svg.setAttribute("height", height);
	const x = function (us) { return LABEL + (us - view[0]) / (view[1] - view[0]) * plot; };
	const clip = el("clipPath", { id: "plotclip" });
	clip.appendChild(el("rect", { x: LABEL, y: 0, width: plot, height: height }));
	const defs = el("defs", {});
	defs.appendChild(clip);
	svg.appendChild(defs);
	/* Axis. */
	const ticks = 8;
	for (let i = 0; i <= ticks; i++) {
		const us = view[0] + (view[1] - view[0]) * i / ticks;
		const tx = x(us);
		svg.appendChild(el("line", { x1: tx, x2: tx, y1: AXIS - 4, y2: height, class: "grid" }));
		svg.appendChild(el("text", { x: tx, y: AXIS - 8, class: "tick" }, "+" + fmtUs(us)));
	}
	const plotG = el("g", { "clip-path": "url(#plotclip)" });
	list.forEach(function (c, i) {
		const y = AXIS + i * ROW;
		const g = el("g", { class: "row", "data-conn": c.id });
		g.appendChild(el("text", { x: 4, y: y + 12, class: "label" },
			(c.comm || "?") + " " + c.l + " \u2192 " + c.r));
		g.appendChild(el("title", {}, "conn " + c.id + " " + c.role + " close=" + c.close +
			" handshake " + fmtUs(c.hs) + " retransmits " + c.rtx));
		const spans = el("g", {});
		for (let k = 0; k < c.steps.length; k++) {
			const s = c.steps[k];
			if (s[2] === "CLOSE") continue;
			const end = k + 1 < c.steps.length ? c.steps[k + 1][0] : c.end;
			const x0 = x(s[0]), x1 = Math.max(x(end), x0 + 1);
			const r = el("rect", { x: x0, y: y + 3, width: x1 - x0, height: ROW - 6,
				fill: COLORS[s[2]] || COLORS.UNKNOWN, class: "span" });
			r.appendChild(el("title", {}, s[2] + " from +" + fmtUs(s[0] - c.start) +
				" for " + fmtUs(end - s[0]) + ": " + s[3]));
			spans.appendChild(r);
		}
		c.marks.forEach(function (m) {
			const mx = x(m[0]);
			const p = el("path", { d: "M" + (mx - 4) + "," + (y + ROW - 2) + " L" + mx + "," + (y + 1) +
				" L" + (mx + 4) + "," + (y + ROW - 2) + " Z", fill: MARKS[m[1]] || "#000", class: "mark" });
			p.appendChild(el("title", {}, m[1] + " at +" + fmtUs(m[0] - c.start) + " in " + m[3] +
				(m[2] > 1 ? " \u00d7" + m[2] : "")));
			spans.appendChild(p);
		});
		plotG.appendChild(spans);
		g.addEventListener("click", function () { details(c); });
		spans.addEventListener("click", function () { details(c); });
		/* Double click: zoom to the connection's life. */
		const fit = function () {
			const pad = Math.max((c.end - c.start) * 0.1, 1);
			view = [Math.max(c.start - pad, 0), c.end + pad];
			render();
		};
		g.addEventListener("dblclick", fit);
		spans.addEventListener("dblclick", fit);
		svg.appendChild(g);
	});
	if (restRows) {
		const y = AXIS + list.length * ROW;
		svg.appendChild(el("text", { x: 4, y: y + 12, class: "label rest" },
			D.rest.count + " more connections (opened per interval)"));
		const max = Math.max.apply(null, D.rest.opened.concat([1]));
		D.rest.opened.forEach(function (n, i) {
			if (!n) return;
			const x0 = x(D.rest.first_us + i * D.rest.bucket_us), x1 = x(D.rest.first_us + (i + 1) * D.rest.bucket_us);
			const r = el("rect", { x: x0, y: y + ROW - 2 - (ROW - 4) * n / max, width: Math.max(x1 - x0, 1),
				height: (ROW - 4) * n / max, class: "restbar" });
			r.appendChild(el("title", {}, n + " opened"));
			plotG.appendChild(r);
		});
	}
	svg.appendChild(plotG);
	byId("count").textContent = list.length + " of " + D.conns.length + " drawn rows shown";
	document.body.setAttribute("data-rows", String(list.length));
}

function zoom(f, at) {
	const c = at === undefined ? (view[0] + view[1]) / 2 : at;
	const w = Math.max((view[1] - view[0]) * f, 1);
	view = [Math.max(c - (c - view[0]) * f, 0), 0];
	view[1] = view[0] + w;
	render();
}

function histogram() {
	const svg = byId("hist");
	const b = D.hist.hs_log2_us;
	const max = Math.max.apply(null, b.concat([1]));
	let first = b.findIndex(function (n) { return n > 0; });
	let last = b.length - 1;
	while (last > 0 && !b[last]) last--;
	if (first < 0) { svg.appendChild(el("text", { x: 10, y: 20 }, "no complete handshakes")); return; }
	const n = last - first + 1, bw = Math.min(48, 560 / n);
	const every = Math.max(1, Math.ceil(72 / bw)); /* labels 72 px apart at least */
	svg.setAttribute("width", 40 + n * bw);
	for (let i = first; i <= last; i++) {
		const hgt = 120 * b[i] / max, x0 = 30 + (i - first) * bw;
		const r = el("rect", { x: x0, y: 130 - hgt, width: bw - 2, height: hgt, class: "bar" });
		r.appendChild(el("title", {}, b[i] + " handshakes in " + (i ? fmtUs(Math.pow(2, i - 1)) : "0") + " .. " + fmtUs(Math.pow(2, i))));
		svg.appendChild(r);
		if ((i - first) % every === 0)
			svg.appendChild(el("text", { x: x0, y: 145, class: "tick" }, "<" + fmtUs(Math.pow(2, i))));
		if (b[i]) svg.appendChild(el("text", { x: x0, y: 126 - hgt, class: "tick" }, String(b[i])));
	}
}

function tables() {
	const t = byId("closes");
	const hr = h("tr");
	["close kind", "connections"].forEach(function (x) { hr.appendChild(h("th", x)); });
	t.appendChild(hr);
	Object.keys(D.close).forEach(function (k) {
		if (!D.close[k]) return;
		const tr = h("tr");
		tr.appendChild(h("td", k));
		tr.appendChild(h("td", String(D.close[k])));
		t.appendChild(tr);
	});
	byId("summary").textContent = D.summary;
	const sel = byId("f-close");
	Object.keys(D.close).forEach(function (k) {
		const o = h("option", k);
		o.value = k;
		sel.appendChild(o);
	});
	const lg = byId("legend");
	Object.keys(COLORS).forEach(function (k) {
		const s = h("span", k, "key");
		s.style.borderLeft = "12px solid " + COLORS[k];
		lg.appendChild(s);
	});
	Object.keys(MARKS).forEach(function (k) {
		const s = h("span", "\u25b2 " + k, "key");
		s.style.color = MARKS[k];
		lg.appendChild(s);
	});
}

try {
	byId("title").textContent = "tcpscope: " + D.title;
	let info = D.total + " connections in " + fmtUs(D.span_us) + " from " + D.start + " (UTC); " + D.conns.length +
		" drawn (at most " + D.max + ", --html-max-conns; the most retransmitting and slowest first)";
	if (D.rest.count) info += ", " + D.rest.count + " aggregated in the last row";
	if (D.lost) info += "; " + D.lost + " events were lost while recording";
	byId("info").textContent = info;
	if (D.damage) byId("damage").textContent = "Damaged capture: " + D.damage + ". The page shows what was read before it.";
	tables();
	histogram();
	["f-port", "f-proc", "f-close"].forEach(function (id) { byId(id).addEventListener("input", render); });
	byId("zin").addEventListener("click", function () { zoom(0.5); });
	byId("zout").addEventListener("click", function () { zoom(2); });
	byId("zreset").addEventListener("click", function () { view = [0, Math.max(D.span_us, 1)]; render(); });
	byId("order").addEventListener("change", function (e) { order = e.target.value; render(); });
	byId("chart").addEventListener("wheel", function (e) {
		e.preventDefault();
		const r = byId("chart").getBoundingClientRect();
		const plot = r.width - LABEL - 10;
		const at = view[0] + (e.clientX - r.left - LABEL) / plot * (view[1] - view[0]);
		zoom(e.deltaY < 0 ? 0.8 : 1.25, at);
	}, { passive: false });
	let drag = null;
	byId("chart").addEventListener("mousedown", function (e) { drag = [e.clientX, view.slice()]; });
	window.addEventListener("mouseup", function () { drag = null; });
	window.addEventListener("mousemove", function (e) {
		if (!drag) return;
		const plot = byId("chart").getBoundingClientRect().width - LABEL - 10;
		const d = (e.clientX - drag[0]) / plot * (drag[1][1] - drag[1][0]);
		view = [Math.max(drag[1][0] - d, 0), Math.max(drag[1][0] - d, 0) + drag[1][1] - drag[1][0]];
		render();
	});
	/* Filters can come in the address: page.html#port=443&proc=nginx&close=refused */
	location.hash.replace(/^#/, "").split("&").forEach(function (kv) {
		const i = kv.indexOf("="), k = kv.slice(0, i), v = decodeURIComponent(kv.slice(i + 1));
		const ids = { port: "f-port", proc: "f-proc", close: "f-close" };
		if (i > 0 && ids[k]) byId(ids[k]).value = v;
	});
	render();
	if (D.conns.length) details(D.conns[0]);
	document.body.setAttribute("data-status", "rendered");
} catch (e) {
	document.body.setAttribute("data-status", "error");
	byId("damage").textContent = "The page failed to render: " + e;
	throw e;
}
})();
