/* Palabre admin: sign-in, queues, search, per-thread view, bulk decisions, per-day chart.
 * Comment text from readers only ever goes in through textContent; the comment body is the
 * server's sanitised HTML. Runs under a strict Content-Security-Policy (no inline code). */
(() => {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const STATUSES = ["pending", "spam", "approved", "deleted", "all"];
  const LABEL = { pending: "Pending", spam: "Spam", approved: "Approved", deleted: "Deleted", all: "All" };
  const state = { view: "queue", status: "pending", q: "", field: "all", thread: null, offset: 0, counts: {} };
  const h = (tag, props, kids) => {
    const e = document.createElement(tag);
    for (const k in props || {}) {
      const v = props[k];
      if (v == null || v === false) continue;
      if (k === "text") e.textContent = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k === "cls" ? "class" : k, v === true ? "" : v);
    }
    for (const c of kids || []) if (c != null) e.append(c);
    return e;
  };

  async function api(path, body) {
    const res = await fetch("/api/admin/" + path, {
      method: body ? "POST" : "GET",
      headers: body ? { "Content-Type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined,
      credentials: "same-origin",
    });
    let data = null;
    try { data = await res.json(); } catch (_) { /* empty body */ }
    if (res.status === 401 && path !== "login") { showLogin(); throw new Error("sign in first"); }
    if (!res.ok) throw new Error((data && data.error && data.error.message) || "request failed (" + res.status + ")");
    return data;
  }
  const say = (msg) => { $("status").textContent = msg; };

  // -- sign-in -----------------------------------------------------------------------------
  function showLogin() {
    $("main-view").hidden = true;
    $("logout").hidden = true;
    $("who").textContent = "";
    $("login-view").hidden = false;
    $("username").focus();
  }
  async function showMain(user) {
    $("login-view").hidden = true;
    $("main-view").hidden = false;
    $("logout").hidden = false;
    $("who").textContent = "Signed in as " + user.username;
    await Promise.all([chart(), refresh()]);
  }
  $("login").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    $("login-error").textContent = "";
    try {
      const user = await api("login", { username: $("username").value, password: $("password").value });
      $("password").value = "";
      await showMain(user);
    } catch (e) { $("login-error").textContent = e.message; $("password").focus(); }
  });
  $("logout").addEventListener("click", async () => { await api("logout", {}); showLogin(); });

  // -- chart: inline SVG, no library ------------------------------------------------------
  async function chart() {
    const data = await api("stats?days=30");
    const days = data.days, W = 720, H = 180, pad = 24, bw = (W - pad) / days.length;
    const max = Math.max(1, ...days.map((d) => d.comments));
    const NS = "http://www.w3.org/2000/svg";
    const el = (tag, attrs, text) => {
      const e = document.createElementNS(NS, tag);
      for (const k in attrs) e.setAttribute(k, attrs[k]);
      if (text != null) e.textContent = text;
      return e;
    };
    const svg = el("svg", { viewBox: `0 0 ${W} ${H + 20}`, role: "img",
      "aria-label": `Comments and spam per day over ${days.length} days: ${days.reduce((a, d) => a + d.comments, 0)} comments, ${days.reduce((a, d) => a + d.spam, 0)} spam` });
    svg.append(el("line", { x1: pad, x2: W, y1: H, y2: H, class: "axis" }));
    svg.append(el("text", { x: 0, y: 10 }, String(max)), el("text", { x: 0, y: H }, "0"));
    days.forEach((d, i) => {
      const x = pad + i * bw + 1, hc = (d.comments / max) * (H - 10), hs = (d.spam / max) * (H - 10);
      const g = el("g", {});
      g.append(el("title", {}, `${d.day}: ${d.comments} comments, ${d.spam} spam`));
      g.append(el("rect", { x, y: H - hc, width: Math.max(1, bw - 2), height: hc, class: "c" }));
      g.append(el("rect", { x, y: H - hs, width: Math.max(1, bw - 2), height: hs, class: "s" }));
      svg.append(g);
      if (i % 5 === 0 || i === days.length - 1) svg.append(el("text", { x: i === days.length - 1 ? x + bw - 2 : x, y: H + 14, "text-anchor": i === days.length - 1 ? "end" : "start" }, d.day.slice(5)));
    });
    const legend = h("div", { cls: "legend" }, [
      h("span", {}, [h("i", { cls: "lc" }), "comments received"]),
      h("span", {}, [h("i", { cls: "ls" }), "spam caught"]),
    ]);
    $("chart").replaceChildren(svg, legend);
  }

  // -- tabs, search, lists --------------------------------------------------------------------
  function tabs() {
    const nav = $("tabs");
    nav.replaceChildren(...STATUSES.map((s) => h("button", {
      type: "button", "aria-current": state.view === "queue" && state.status === s ? "page" : null,
      onclick: () => { Object.assign(state, { view: "queue", status: s, thread: null, offset: 0 }); refresh(); },
    }, [LABEL[s], s !== "all" ? h("span", { cls: "count", text: String(state.counts[s] || 0) }) : null])),
    h("button", { type: "button", "aria-current": state.view === "threads" ? "page" : null,
      onclick: () => { Object.assign(state, { view: "threads", thread: null }); refresh(); } }, ["Threads"]));
  }

  $("search").addEventListener("submit", (ev) => {
    ev.preventDefault();
    Object.assign(state, { q: $("q").value, field: $("field").value, offset: 0 });
    if (state.view === "threads" && state.field !== "thread") state.view = "queue";
    refresh();
  });
  $("more").addEventListener("click", () => { state.offset += 50; refresh(true); });

  async function refresh(append) {
    try {
      if (state.view === "threads") return await threads();
      let data, title;
      if (state.thread) {
        data = await api("threads/" + state.thread);
        title = `Thread ${data.thread.title || data.thread.uri} (${data.total} comments)`;
      } else {
        const p = new URLSearchParams({ status: state.status, q: state.q, field: state.field, offset: state.offset, limit: 50 });
        data = await api("comments?" + p);
        state.counts = data.counts;
        title = `${LABEL[state.status]}: ${data.total}` + (state.q ? ` matching “${state.q}”` : "");
      }
      tabs();
      $("bulk").hidden = false;
      $("list-title").textContent = title;
      const items = data.comments.map(item);
      if (append) $("list").append(...items); else $("list").replaceChildren(...items);
      if (!data.comments.length && !append) $("list").append(h("p", { cls: "muted", text: "Nothing here." }));
      $("more").hidden = state.thread || state.offset + data.comments.length >= data.total;
      $("select-all").checked = false;
    } catch (e) { say(e.message); }
  }

  async function threads() {
    const data = await api("threads?" + new URLSearchParams({ q: state.field === "thread" ? state.q : "" }));
    tabs();
    $("bulk").hidden = true;
    $("more").hidden = true;
    $("list-title").textContent = "Threads";
    const n = (v) => h("td", { cls: "n", text: String(v) });
    const table = h("table", { cls: "threads" }, [
      h("thead", {}, [h("tr", {}, ["Page", "Approved", "Pending", "Spam", "Deleted", "Last comment"].map((t) => h("th", { scope: "col", text: t })))]),
      h("tbody", {}, data.threads.map((t) => h("tr", {}, [
        h("td", {}, [h("button", { type: "button", cls: "linkish", text: t.title || t.uri, onclick: () => openThread(t.id) }),
          h("div", { cls: "muted small", text: t.uri })]),
        n(t.approved), n(t.pending), n(t.spam), n(t.deleted),
        h("td", { text: t.last_comment ? new Date(t.last_comment).toLocaleString() : "" }),
      ]))),
    ]);
    $("list").replaceChildren(table);
  }

  function openThread(id) {
    Object.assign(state, { view: "queue", thread: id });
    refresh().then(() => $("list-title").focus());
  }

  function item(c) {
    const check = h("input", { type: "checkbox", value: c.id, "aria-label": "Select comment " + c.id });
    const body = h("div", { cls: "body" });
    body.innerHTML = c.html; // sanitised by the server's allow-list
    const who = [h("strong", { text: c.author || "(erased)" })];
    if (c.email) who.push(h("span", { text: c.email }));
    if (c.website) who.push(h("span", { text: c.website }));
    if (c.ip) who.push(h("span", { text: "IP " + c.ip }));
    const score = c.spam.score == null ? null : h("div", { cls: "score" }, [
      `Spam score ${c.spam.score.toFixed(2)} (${c.spam.class})`,
      c.spam.reasons.length ? h("ul", {}, c.spam.reasons.map((r) => h("li", { text: typeof r === "string" ? r : r.text || r.message || JSON.stringify(r) }))) : null,
    ]);
    const act = (action, label, cls) => h("button", { type: "button", cls, text: label, onclick: () => decide([c.id], action) });
    return h("article", { cls: "item", "data-status": c.status, "data-id": c.id, "aria-label": "Comment " + c.id + " by " + (c.author || "erased") }, [
      check,
      h("div", {}, [
        h("div", { cls: "meta" }, [h("span", { cls: "badge " + c.status, text: c.status }), ...who]),
        h("div", { cls: "meta" }, [
          h("time", { datetime: c.created, text: new Date(c.created).toLocaleString() }),
          h("span", {}, ["on ", h("button", { type: "button", cls: "linkish", text: c.thread.title || c.thread.uri, onclick: () => openThread(c.thread.id) })]),
          c.parent ? h("span", { text: "reply to #" + c.parent }) : null,
        ]),
        body,
        score,
        h("div", { cls: "actions" }, [
          c.status !== "approved" ? act("approve", "Approve", "primary") : null,
          c.status !== "spam" ? act("spam", "Spam") : null,
          c.status === "spam" || c.status === "pending" ? act("ham", "Not spam") : null,
          c.status !== "deleted" ? act("delete", "Delete", "danger") : null,
        ]),
      ]),
    ]);
  }

  async function decide(ids, action) {
    if (!ids.length) { say("Select comments first."); return; }
    try {
      const r = await api("comments/action", { ids, action });
      const verb = { approve: "approved", spam: "marked as spam", ham: "marked as not spam", delete: "deleted" }[action];
      say(`${r.changed.length} comment(s) ${verb}` + (r.learned ? `; the filter learned from ${r.learned}.` : "."));
      await Promise.all([refresh(), chart()]);
    } catch (e) { say(e.message); }
  }

  $("select-all").addEventListener("change", (ev) => {
    for (const box of $("list").querySelectorAll(".item input[type=checkbox]")) box.checked = ev.target.checked;
  });
  for (const b of document.querySelectorAll("[data-bulk]")) {
    b.addEventListener("click", () => decide(
      [...$("list").querySelectorAll(".item input:checked")].map((x) => Number(x.value)), b.dataset.bulk));
  }

  api("me").then((r) => (r.user ? showMain(r.user) : showLogin()), () => showLogin());
})();
