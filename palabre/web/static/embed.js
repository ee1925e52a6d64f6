/* Palabre comment widget. One script tag:
 *   <script src="https://comments.example/embed.js" data-palabre-uri="/path" defer></script>
 * optional container <div id="palabre-thread"></div>. No framework, no third-party request.
 * Untrusted text only ever goes through textContent; the one innerHTML is the server's
 * sanitised comment HTML. */
(() => {
  "use strict";
  const S = document.currentScript || document.querySelector("script[src*='embed.js']");
  if (!S) return;
  const D = document, ds = S.dataset, W = window;
  const BASE = S.src.replace(/\/embed\.js([?#].*)?$/, "");
  const URI = ds.palabreUri || location.pathname;
  const LANG = (ds.palabreLang || D.documentElement.lang || navigator.language || "en")
    .slice(0, 2).toLowerCase();

  // Every string the reader sees, in one place. The page's `lang` picks the language.
  const I18N = {
    en: {
      count: (n) => n === 1 ? "1 comment" : n + " comments",
      leave: "Leave a Comment", reply: "Reply", replyTo: "Reply to ", name: "Name",
      email: "E-mail", emailHint: "optional, never published", website: "Website",
      comment: "Comment", md: "Markdown: **bold**, *italic*, `code`, [link](https://…), > quote",
      post: "Post comment", sending: "Sending…", cancel: "Cancel", edit: "Edit", save: "Save",
      del: "Delete", sure: "Really delete?", more: "Load more comments", up: "Vote up",
      down: "Vote down", held: "Your comment is awaiting moderation. Only you can see it until a moderator approves it.",
      gone: "This comment was deleted.", edited: "edited", empty: "No comments yet. Start the conversation.",
      ok: "Your comment was published.", deletedOk: "Your comment was deleted.",
      fail: "Something went wrong; please try again.", loadFail: "Comments could not be loaded.",
      sort: "Sort", oldest: "Oldest", newest: "Newest", top: "Best",
      hp: "Leave this field empty", you: "you",
      privacy: ["This site uses Palabre to reduce spam. ", "Learn how your comment data is processed."],
    },
    fr: {
      count: (n) => n + (n > 1 ? " commentaires" : " commentaire"),
      leave: "Laisser un commentaire", reply: "Répondre", replyTo: "Répondre à ", name: "Nom",
      email: "Courriel", emailHint: "facultatif, jamais publié", website: "Site web",
      comment: "Commentaire", md: "Markdown : **gras**, *italique*, `code`, [lien](https://…), > citation",
      post: "Publier", sending: "Envoi…", cancel: "Annuler", edit: "Modifier", save: "Enregistrer",
      del: "Supprimer", sure: "Vraiment supprimer ?", more: "Plus de commentaires", up: "Voter pour",
      down: "Voter contre", held: "Votre commentaire est en attente de modération. Vous seul le voyez jusqu’à son approbation.",
      gone: "Ce commentaire a été supprimé.", edited: "modifié", empty: "Aucun commentaire pour l’instant. Lancez la discussion.",
      ok: "Votre commentaire est publié.", deletedOk: "Votre commentaire a été supprimé.",
      fail: "Une erreur est survenue ; veuillez réessayer.", loadFail: "Impossible de charger les commentaires.",
      sort: "Trier", oldest: "Plus anciens", newest: "Plus récents", top: "Meilleurs",
      hp: "Laissez ce champ vide", you: "vous",
      privacy: ["Ce site utilise Palabre pour réduire le spam. ", "Découvrez comment les données de vos commentaires sont traitées."],
    },
  };
  const T = I18N[LANG] || I18N.en;
  const FIELDS = ["author", "email", "website", "text"];

  // -- small helpers --------------------------------------------------------------------
  const h = (tag, props, kids) => {
    const e = D.createElement(tag);
    for (const k in props || {}) {
      const v = props[k];
      if (v == null || v === false) continue;
      if (k === "text") e.textContent = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k === "cls" ? "class" : k, v === true ? "" : v);
    }
    for (const c of kids || []) if (c) e.append(c);
    return e;
  };
  const store = {
    get(k) { try { return JSON.parse(localStorage.getItem("palabre:" + k)) || {}; } catch (_) { return {}; } },
    set(k, v) { try { localStorage.setItem("palabre:" + k, JSON.stringify(v)); } catch (_) { /* private mode */ } },
  };
  const api = async (path, opts) => {
    opts = opts || {};
    const headers = {};
    if (opts.body) headers["Content-Type"] = "application/json";
    if (opts.token) headers.Authorization = "Bearer " + opts.token;
    let res, data = null;
    try {
      res = await fetch(BASE + "/api/" + path, {
        method: opts.method || "GET", headers, credentials: opts.cred ? "include" : "same-origin",
        body: opts.body ? JSON.stringify(opts.body) : undefined,
      });
      data = await res.json();
    } catch (_) { /* network error or a non-JSON body */ }
    if (!res || !res.ok) {
      const err = (data && data.error) || {};
      throw { field: err.field || "", message: err.message || T.fail, status: res ? res.status : 0 };
    }
    return { status: res.status, data };
  };
  const safeUrl = (u) => {
    try { const p = new URL(u); return /^https?:$/.test(p.protocol) ? p.href : null; } catch (_) { return null; }
  };
  const rtf = W.Intl && Intl.RelativeTimeFormat ? new Intl.RelativeTimeFormat(LANG, { numeric: "auto" }) : null;
  const ago = (iso) => {
    const s = (Date.parse(iso) - Date.now()) / 1000;
    if (!rtf) return new Date(iso).toLocaleString(LANG);
    for (const [u, n] of [["year", 31536e3], ["month", 2592e3], ["week", 604800], ["day", 86400], ["hour", 3600], ["minute", 60]]) {
      if (Math.abs(s) >= n) return rtf.format(Math.round(s / n), u);
    }
    return rtf.format(0, "second");
  };
  // A 5×5 mirrored identicon drawn from the keyed hash: no request to anyone.
  const avatar = (hash) => {
    const NS = "http://www.w3.org/2000/svg", svg = D.createElementNS(NS, "svg");
    const rect = (x, y, fill) => {
      const r = D.createElementNS(NS, "rect");
      for (const [k, v] of [["x", x], ["y", y], ["width", x < 0 ? 7 : 1], ["height", x < 0 ? 7 : 1], ["fill", fill]]) r.setAttribute(k, v);
      svg.append(r);
    };
    svg.setAttribute("viewBox", "-1 -1 7 7");
    svg.setAttribute("class", "pal-av");
    svg.setAttribute("aria-hidden", "true");
    const ok = /^[0-9a-f]{32}$/.test(hash || ""), hue = ok ? parseInt(hash.slice(0, 3), 16) % 360 : 0;
    rect(-1, -1, ok ? `hsl(${hue},45%,88%)` : "#ccc");
    if (ok) {
      for (let i = 0; i < 15; i++) {
        if (parseInt(hash[i + 3], 16) & 1) {
          const x = i % 3, y = (i / 3) | 0, fill = `hsl(${hue},55%,40%)`;
          rect(x, y, fill);
          if (x < 2) rect(4 - x, y, fill);
        }
      }
    }
    return svg;
  };

  // -- state ----------------------------------------------------------------------------
  let root, list, status, countEl, moreBtn, config = {}, next = null, sort = "oldest", total = 0;
  const tokens = () => {
    const all = store.get("tok"), now = Date.now();
    for (const id in all) if (all[id].u < now) delete all[id];
    return all;
  };
  const tokenFor = (id) => tokens()[id];
  const announce = (msg) => { status.textContent = ""; setTimeout(() => { status.textContent = msg; }, 30); };

  // -- rendering --------------------------------------------------------------------------
  function renderComment(c, held) {
    const li = h("li", { cls: "pal-c" + (held ? " pal-held" : ""), id: "palabre-" + c.id, tabindex: "-1" });
    li.dataset.id = c.id;
    if (c.deleted) {
      li.append(h("article", { cls: "pal-art pal-gone" }, [h("p", { text: T.gone })]));
    } else {
      const url = c.website && safeUrl(c.website);
      const who = url
        ? h("a", { cls: "pal-who", href: url, rel: "nofollow ugc noopener noreferrer", text: c.author })
        : h("span", { cls: "pal-who", text: c.author });
      const time = h("time", { datetime: c.created, title: new Date(c.created).toLocaleString(LANG), text: ago(c.created) });
      const head = h("header", { cls: "pal-head" }, [avatar(c.avatar), who, " ", time,
        c.edited ? h("span", { cls: "pal-ed", text: " · " + T.edited }) : null]);
      const body = h("div", { cls: "pal-body" });
      body.innerHTML = c.html; // sanitised by the server (allow-list), never raw input
      const art = h("article", { cls: "pal-art" }, [head, body]);
      if (held) art.append(h("p", { cls: "pal-note", role: "note", text: T.held }));
      else art.append(actions(c, li));
      li.append(art);
    }
    const replies = h("ol", { cls: "pal-list pal-replies" });
    for (const r of c.replies || []) replies.append(renderComment(r));
    li.append(replies);
    return li;
  }

  function actions(c, li) {
    const bar = h("div", { cls: "pal-acts" });
    const votes = h("span", { cls: "pal-votes", text: String(c.votes || 0), "aria-live": "polite" });
    const vote = (v, label, sym) => h("button", {
      type: "button", cls: "pal-btn pal-vote", "aria-label": label, title: label, text: sym,
      onclick: async (ev) => {
        try {
          const r = await api(`comments/${c.id}/vote`, { method: "POST", body: { value: v }, cred: true });
          votes.textContent = String(r.data.votes);
          for (const b of bar.querySelectorAll(".pal-vote")) b.setAttribute("aria-pressed", String(b === ev.currentTarget));
        } catch (e) { announce(e.message); }
      },
    });
    bar.append(vote(1, T.up, "▲"), votes, vote(-1, T.down, "▼"));
    bar.append(h("button", {
      type: "button", cls: "pal-btn", text: T.reply, "aria-expanded": "false",
      onclick: (ev) => toggleReply(c, li, ev.currentTarget),
    }));
    if (tokenFor(c.id)) {
      bar.append(h("button", { type: "button", cls: "pal-btn", text: T.edit, onclick: () => startEdit(c, li) }));
      bar.append(h("button", {
        type: "button", cls: "pal-btn pal-danger", text: T.del,
        onclick: (ev) => {
          const b = ev.currentTarget;
          if (b.dataset.sure) remove(c, li); else { b.dataset.sure = "1"; b.textContent = T.sure; }
        },
      }));
    }
    return bar;
  }

  function toggleReply(c, li, btn) {
    const art = li.querySelector(":scope > .pal-art");
    const open = art.querySelector(":scope > form");
    if (open) { open.remove(); btn.setAttribute("aria-expanded", "false"); btn.focus(); return; }
    const f = makeForm(c.id, () => { f.remove(); btn.setAttribute("aria-expanded", "false"); btn.focus(); });
    art.append(f);
    btn.setAttribute("aria-expanded", "true");
    f.querySelector("input,textarea").focus();
  }

  function startEdit(c, li) {
    const art = li.querySelector(":scope > .pal-art"), body = art.querySelector(".pal-body");
    if (art.querySelector(".pal-editor")) return;
    const tok = tokenFor(c.id);
    if (!tok) return;
    const ta = h("textarea", { cls: "pal-in", rows: "5", "aria-label": T.comment, maxlength: config.max_length });
    ta.value = tok.x || body.textContent;
    const err = h("p", { cls: "pal-err", "aria-live": "polite" });
    const close = () => { ed.remove(); body.hidden = false; art.querySelector(".pal-acts").hidden = false; };
    const ed = h("form", {
      cls: "pal-editor", onsubmit: async (ev) => {
        ev.preventDefault();
        try {
          const r = await api("comments/" + c.id, { method: "PATCH", body: { text: ta.value }, token: tok.t });
          body.innerHTML = r.data.html; // sanitised by the server
          const all = store.get("tok");
          if (all[c.id]) { all[c.id].x = ta.value; store.set("tok", all); }
          close();
          li.focus();
        } catch (e) { err.textContent = e.message; ta.setAttribute("aria-invalid", "true"); }
      },
    }, [ta, err, h("div", { cls: "pal-row" }, [
      h("button", { type: "submit", cls: "pal-btn pal-primary", text: T.save }),
      h("button", { type: "button", cls: "pal-btn", text: T.cancel, onclick: close }),
    ])]);
    body.hidden = true;
    art.querySelector(".pal-acts").hidden = true;
    body.after(ed);
    ta.focus();
  }

  async function remove(c, li) {
    const tok = tokenFor(c.id);
    try {
      await api("comments/" + c.id, { method: "DELETE", token: tok && tok.t });
      const all = store.get("tok");
      delete all[c.id];
      store.set("tok", all);
      if (li.querySelector(".pal-replies > li")) {
        li.querySelector(":scope > .pal-art").replaceWith(h("article", { cls: "pal-art pal-gone" }, [h("p", { text: T.gone })]));
      } else li.remove();
      setCount(total - 1);
      announce(T.deletedOk);
    } catch (e) { announce(e.message); }
  }

  function setCount(n) {
    total = Math.max(0, n);
    countEl.textContent = T.count(total);
    list.setAttribute("aria-label", T.count(total));
    list.dataset.empty = total ? "" : T.empty;
  }

  // -- the form -------------------------------------------------------------------------
  let formSeq = 0;
  function makeForm(parent, onDone) {
    const n = ++formSeq, id = (f) => `pal-${n}-${f}`;
    const field = (name, label, input, hint) => {
      input.id = id(name);
      input.name = name;
      input.className = "pal-in";
      const err = h("p", { cls: "pal-err", id: id(name + "-err"), "aria-live": "polite" });
      const hintEl = hint ? h("span", { cls: "pal-hint", id: id(name + "-hint"), text: hint }) : null;
      input.setAttribute("aria-describedby", (hint ? id(name + "-hint") + " " : "") + id(name + "-err"));
      return h("div", { cls: "pal-f pal-f-" + name }, [h("label", { for: id(name), text: label }), hintEl, input, err]);
    };
    const req = (el) => { el.required = true; return el; };
    const saved = store.get("me");
    const inp = (type, ac, v) => h("input", { type, autocomplete: ac, value: v || null });
    const text = h("textarea", { rows: "5", maxlength: config.max_length });
    const general = h("p", { cls: "pal-err pal-general", role: "alert" });
    const submit = h("button", { type: "submit", cls: "pal-btn pal-primary", text: T.post });
    const form = h("form", { cls: "pal-form", novalidate: true, "aria-label": parent ? T.reply : T.leave }, [
      parent ? null : h("h3", { cls: "pal-title", text: T.leave }),
      h("div", { cls: "pal-grid" }, [
        field("author", T.name, req(inp("text", "name", saved.author))),
        field("email", T.email, inp("email", "email", saved.email), T.emailHint),
        field("website", T.website, inp("url", "url", saved.website)),
      ]),
      field("text", T.comment, req(text), T.md),
      // Humans never see or fill this field; many bots do.
      h("div", { cls: "pal-hp", "aria-hidden": "true" }, [
        h("label", { text: T.hp }, [h("input", { name: "honeypot", tabindex: "-1", autocomplete: "off" })]),
      ]),
      general,
      h("div", { cls: "pal-row" }, [submit,
        onDone ? h("button", { type: "button", cls: "pal-btn", text: T.cancel, onclick: onDone }) : null]),
    ]);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      if (submit.disabled) return;
      const val = (f) => form.elements[f].value;
      for (const f of FIELDS) showError(form, f, "");
      general.textContent = "";
      const body = {
        uri: URI, title: D.title, author: val("author"), email: val("email") || null,
        website: val("website") || null, text: val("text"), honeypot: val("honeypot") || null,
        form_token: config.form_token, language: LANG,
      };
      if (parent) body.parent = parent;
      const missing = ["author", "text"].filter((f) => !body[f].trim());
      if (missing.length) {
        for (const f of missing) showError(form, f, LANG === "fr" ? "Ce champ est obligatoire." : "This field is required.");
        form.elements[missing[0]].focus();
        return;
      }
      submit.disabled = true;
      submit.textContent = T.sending;
      try {
        const r = await api("comments", { method: "POST", body });
        const c = r.data, held = c.status !== "approved";
        store.set("me", { author: body.author, email: body.email, website: body.website });
        const all = store.get("tok");
        all[c.id] = { t: c.edit_token, u: Date.parse(c.edit_until), x: body.text };
        store.set("tok", all);
        if (held) {
          const hs = store.get("held");
          hs[c.id] = { uri: URI, c, u: Date.now() + 30 * 864e5 };
          store.set("held", hs);
        }
        const li = insert(c, held);
        if (!held) setCount(total + 1);
        form.reset();
        if (onDone) onDone();
        li.focus();
        announce(held ? T.held : T.ok);
      } catch (e) {
        if (FIELDS.includes(e.field)) {
          showError(form, e.field, e.message);
          form.elements[e.field].focus();
        } else general.textContent = e.message;
      } finally {
        submit.disabled = false;
        submit.textContent = T.post;
      }
    });
    return form;
  }

  function showError(form, f, msg) {
    const input = form.elements[f], err = form.querySelector(`#${input.id}-err`);
    const label = form.querySelector(`label[for="${input.id}"]`).textContent;
    err.textContent = msg ? (/^[a-z]/.test(msg) ? label + " " + msg : msg) : "";
    if (msg) input.setAttribute("aria-invalid", "true"); else input.removeAttribute("aria-invalid");
  }

  function insert(c, held) {
    const li = renderComment(c, held);
    const parent = c.parent && D.getElementById("palabre-" + c.parent);
    (parent ? parent.querySelector(":scope > .pal-replies") : list)[sort === "newest" && !parent ? "prepend" : "append"](li);
    return li;
  }

  // -- loading --------------------------------------------------------------------------
  async function load(more) {
    const q = `comments?uri=${encodeURIComponent(URI)}&sort=${sort}` + (more && next ? "&after=" + encodeURIComponent(next) : "");
    try {
      const { data } = await api(q);
      config = data.config || config;
      if (!more) list.textContent = "";
      for (const c of data.comments) list.append(renderComment(c));
      next = data.next;
      moreBtn.hidden = !next;
      setCount(data.thread.count);
      if (!more) showHeld();
    } catch (e) { announce(T.loadFail); list.dataset.empty = T.loadFail; }
  }

  // Comments held for moderation are shown to their author only (from this browser).
  function showHeld() {
    const hs = store.get("held"), now = Date.now();
    for (const id in hs) {
      const item = hs[id];
      if (item.u < now || D.getElementById("palabre-" + id)) { if (item.uri === URI) delete hs[id]; continue; }
      if (item.uri === URI) insert(item.c, true);
    }
    store.set("held", hs);
  }

  function mount() {
    root = D.getElementById("palabre-thread");
    if (!root) { root = h("div", { id: "palabre-thread" }); S.after(root); }
    root.classList.add("palabre");
    root.lang = LANG;
    if (ds.palabreTheme) root.dataset.theme = ds.palabreTheme;
    countEl = h("h2", { cls: "pal-count", text: "…" });
    const sel = h("select", { cls: "pal-in pal-sort", "aria-label": T.sort, onchange: (ev) => { sort = ev.target.value; load(); } },
      ["oldest", "newest", "top"].map((s) => h("option", { value: s, text: T[s] })));
    list = h("ol", { cls: "pal-list", "aria-label": T.count(0) });
    moreBtn = h("button", { type: "button", cls: "pal-btn pal-more", hidden: true, text: T.more, onclick: () => load(true) });
    status = h("div", { cls: "pal-sr", role: "status", "aria-live": "polite" });
    const privacy = h("p", { cls: "pal-privacy" }, [T.privacy[0],
      h("a", { href: BASE + "/privacy", text: T.privacy[1] })]);
    root.textContent = "";
    root.append(h("div", { cls: "pal-top" }, [countEl, sel]), list, moreBtn, makeForm(null), privacy, status);
    load();
  }

  // The stylesheet comes from the same server; its URL is stamped in by the server.
  if (!D.querySelector("link[data-palabre]")) {
    D.head.append(h("link", { rel: "stylesheet", href: BASE + "/__PALABRE_CSS__", "data-palabre": "" }));
  }
  if (D.readyState === "loading") D.addEventListener("DOMContentLoaded", mount); else mount();
})();
