// dokiem's residents' test (issue 22). The test server counts the bytes and signs what it counted; this
// page only moves them, shows the speed as it goes, and submits its own reading beside the server's.
"use strict";

const TEXT = {
  vi: {
    title: "Đo tốc độ đường truyền của bạn", other_lang: "English",
    consent_title: "Trước khi đo",
    consent_text: "Kết quả đo giúp Sở biết chất lượng băng rộng người dân thực sự nhận được. Chúng tôi lưu: xã, loại đường truyền, nhà mạng, các số đo và thời điểm đo. Chúng tôi không lưu địa chỉ IP, không dùng cookie, không lưu vị trí của bạn. Dữ liệu mở chỉ ghi giờ đo, không ghi phút.",
    consent_accept: "Tôi đồng ý, tiếp tục", form_title: "Đường truyền của bạn",
    commune_label: "Xã, phường nơi bạn đo", commune_hint: "Gõ tên, có dấu hay không dấu",
    access_label: "Loại đường truyền", access_fixed: "Cáp quang tại nhà (qua Wi-Fi hoặc dây mạng)",
    access_mobile: "Di động 4G/5G", wifi_label: "Tôi đo qua Wi-Fi", isp_label: "Nhà mạng", start: "Bắt đầu đo",
    result_title: "Kết quả",
    footer: "Số đo do máy chủ đo của tỉnh đếm và ký xác nhận; số trình duyệt đo được lưu bên cạnh.",
    locate: "Tìm xã theo vị trí của tôi", locating: "Đang tìm xã…",
    located: "Vị trí chỉ dùng để tìm xã, không được lưu.", not_located: "Không tìm được xã theo vị trí: {why}. Hãy gõ tên xã.",
    pick_commune: "Hãy chọn xã, phường trong danh sách.", choosing: "Đang chọn máy chủ gần nhất…",
    latency: "Đang đo độ trễ…", download: "Đang đo tải xuống", upload: "Đang đo tải lên", sending: "Đang gửi kết quả…",
    meets: "Đạt {name}.", misses: "Chưa đạt {name}.", failed: "Không đo được: {why}",
    good_4k: "Đủ cho video 4K, gọi video nhiều người và làm việc từ xa cùng lúc.",
    good_hd: "Đủ cho video HD và gọi video.", good_sd: "Đủ cho lướt web, video chất lượng thường và gọi thoại.",
    good_little: "Chỉ đủ cho tin nhắn và lướt web nhẹ.",
    err_busy: "máy chủ đang bận vì nhiều người cùng đo, hãy thử lại sau ít phút",
    err_too_many: "bạn đã đo nhiều lần trong giờ này, hãy thử lại sau",
    unsure: "Máy chủ đo không đếm chắc được một chiều của lượt đo này nên chiều đó không có số; hãy đo lại.",
    err_sender_cap: "Xã này đã nhận đủ số lần đo hôm nay từ mạng của bạn: kết quả trên chỉ để bạn xem, không được tính thêm.",
    err_outside: "vị trí không thuộc xã, phường nào của tỉnh",
    median: "Trung vị đã công bố của {commune} ({access}, máy đo của xã, {tests} lần đo): tải xuống {down} Mbit/s, tải lên {up} Mbit/s.",
    no_median: "{commune} chưa có số liệu được công bố cho loại đường truyền này.",
    kind_fixed: "băng rộng cố định", kind_mobile: "di động",
  },
  en: {
    title: "Test your line's speed", other_lang: "Tiếng Việt",
    consent_title: "Before you test",
    consent_text: "Your result helps the department know the broadband quality people really get. We keep: the commune, the kind of line, the ISP, the figures and the time. We keep no IP address, use no cookie and keep no location of yours. Open data gives the hour only, not the minute.",
    consent_accept: "I agree, continue", form_title: "Your line",
    commune_label: "Commune or ward where you test", commune_hint: "Type the name, with or without diacritics",
    access_label: "Kind of line", access_fixed: "Home fibre (over Wi-Fi or cable)", access_mobile: "Mobile 4G/5G",
    wifi_label: "I am testing over Wi-Fi", isp_label: "ISP", start: "Start the test", result_title: "Result",
    footer: "The province's test server counts the figures and signs them; the browser's own reading is kept beside.",
    locate: "Find my commune from my location", locating: "Finding the commune…",
    located: "The location only finds the commune; it is not kept.", not_located: "No commune found from the location: {why}. Type its name.",
    pick_commune: "Pick a commune or ward from the list.", choosing: "Choosing the nearest test server…",
    latency: "Measuring latency…", download: "Measuring download", upload: "Measuring upload", sending: "Sending the result…",
    meets: "Meets {name}.", misses: "Does not meet {name}.", failed: "Could not measure: {why}",
    good_4k: "Enough for 4K video, group video calls and remote work at once.",
    good_hd: "Enough for HD video and video calls.", good_sd: "Enough for browsing, standard video and voice calls.",
    good_little: "Enough for messages and light browsing only.",
    err_busy: "the server is busy with many tests at once; try again in a few minutes",
    err_too_many: "you have tested several times this hour; try again later",
    unsure: "The test server could not vouch for one direction of this test, so it has no figure; test again.",
    err_sender_cap: "This commune has today's tests from your network: the figures above are yours to see, not counted again.",
    err_outside: "the location is in none of the province's communes",
    median: "{commune}'s published median ({access}, the commune's agents, {tests} tests): download {down} Mbit/s, upload {up} Mbit/s.",
    no_median: "{commune} has no published figures for this kind of line yet.",
    kind_fixed: "fixed broadband", kind_mobile: "mobile",
  },
};
const LANG = new URLSearchParams(location.search).get("lang") === "en" ? "en" : "vi";
const t = (key, vars = {}) => TEXT[LANG][key].replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ""));
const $ = (id) => document.getElementById(id);
const number = (value, digits = 1) => value == null ? "–" :
  value.toLocaleString(LANG === "vi" ? "vi-VN" : "en-GB", { minimumFractionDigits: digits, maximumFractionDigits: digits });
const fold = (text) => text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/đ/g, "d").replace(/Đ/g, "D").toLowerCase();

let config = null;
let chosen = null;  // the commune picked: {code, name}

function translate() {
  document.documentElement.lang = LANG;
  for (const el of document.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
  for (const el of document.querySelectorAll("[data-tp]")) el.placeholder = t(el.dataset.tp);
  $("lang").href = LANG === "en" ? "?" : "?lang=en";
}

function showOptions() {
  if (!config) return;  // the list is on its way: start() shows the options once it arrives
  const typed = fold($("commune").value.trim());
  const list = $("commune-list");
  list.replaceChildren();
  chosen = null;
  if (!typed) { list.hidden = true; $("commune").setAttribute("aria-expanded", "false"); return; }
  const found = config.communes.filter((c) => fold(`${c.name} ${c.former}`).includes(typed)).slice(0, 12);
  for (const commune of found) {
    const item = document.createElement("li");
    item.setAttribute("role", "option");
    item.id = `commune-${commune.code}`;
    item.tabIndex = -1;
    item.textContent = commune.former ? `${commune.name} (${commune.former})` : commune.name;  // text, never markup
    item.addEventListener("click", () => pick(commune));
    item.addEventListener("keydown", (event) => optionKey(event, commune));
    list.append(item);
  }
  list.hidden = found.length === 0;
  $("commune").setAttribute("aria-expanded", String(found.length > 0));
}

// A listbox by keyboard: Enter picks, arrows move between options (up from the first: back to the
// input), Escape closes the list.
function optionKey(event, commune) {
  const item = event.currentTarget;
  if (event.key === "Enter") { pick(commune); $("commune").focus(); }
  else if (event.key === "ArrowDown" && item.nextElementSibling) item.nextElementSibling.focus();
  else if (event.key === "ArrowUp") (item.previousElementSibling || $("commune")).focus();
  else if (event.key === "Escape") { closeList(); $("commune").focus(); }
  else return;
  event.preventDefault();
}

function closeList() {
  $("commune-list").hidden = true;
  $("commune").setAttribute("aria-expanded", "false");
}

function pick(commune) {
  chosen = commune;
  $("commune").value = commune.name;
  closeList();
}

// The browser's point goes to the collector once, which answers with the commune only and keeps nothing.
function locate() {
  const note = $("locate-note");
  if (!navigator.geolocation) { note.textContent = t("not_located", { why: "—" }); return; }
  note.textContent = t("locating");
  navigator.geolocation.getCurrentPosition(async (position) => {
    try {
      const found = await postJson("/do/locate", { lat: position.coords.latitude, lon: position.coords.longitude });
      const commune = (config ? config.communes : []).find((c) => c.code === found.code) || { code: found.code, name: found.name, former: "" };
      pick(commune);
      note.textContent = t("located");
    } catch (error) { note.textContent = t("not_located", { why: error.message }); }
  }, (error) => { note.textContent = t("not_located", { why: error.message }); }, { timeout: 15000, maximumAge: 600000 });
}

async function postJson(path, body) {
  const answer = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  const data = await answer.json();
  if (!answer.ok) {
    throw Object.assign(new Error(TEXT[LANG][`err_${data.error}`] || data.detail || data.error || String(answer.status)),
      { code: data.error });
  }
  return data;
}

async function rtt(url) {
  const start = performance.now();
  const answer = await fetch(`${url}empty.php?r=${Math.random()}`, { cache: "no-store" });
  await answer.arrayBuffer();
  return performance.now() - start;
}

async function nearest(servers) {
  let best = null;
  for (const server of servers) {
    try {
      const times = [];
      for (let i = 0; i < 3; i++) times.push(await rtt(server.url));
      const least = Math.min(...times);
      if (!best || least < best.ms) best = { server, ms: least };
    } catch (error) { /* unreachable: the next one */ }
  }
  if (!best) throw new Error("no test server answers");
  return best.server;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.floor(sorted.length / 2)] : null;
}

async function latency(url) {
  const times = [];
  for (let i = 0; i < 10; i++) times.push(await rtt(url));
  const jitter = times.slice(1).reduce((sum, x, i) => sum + Math.abs(x - times[i]), 0) / Math.max(1, times.length - 1);
  return { ms: Math.min(...times), jitter };
}

// One upload by XMLHttpRequest, whose progress events count bytes as they leave (fetch tells only when a
// whole body is done, which on a long path reads far below the line).
function uploadOnce(url, blob, stop, count) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    let sent = 0;
    xhr.upload.onprogress = (event) => { count(event.loaded - sent); sent = event.loaded; };
    xhr.onload = () => resolve();
    xhr.onabort = () => resolve();
    xhr.onerror = () => reject(new Error("upload failed"));
    stop.signal.addEventListener("abort", () => xhr.abort(), { once: true });
    xhr.open("POST", url);
    xhr.send(blob);
  });
}

// The figure over the part the server counts too: the first share (streams opening, slow start) left out.
function rateAfterWarmup(samples, share) {
  const [lastT, lastBytes] = samples[samples.length - 1];
  const warm = samples.find(([t]) => t >= share * lastT) || samples[0];
  return lastT > warm[0] ? (lastBytes - warm[1]) * 8 / ((lastT - warm[0]) / 1000) / 1e6 : 0;
}

// How a direction is shaped by the path (the collector's vouch.PageTest): its length stretched to enough
// round trips, its streams to the line's bandwidth-delay product, its bytes bounded on mobile data.
function plan(rttMs, mobile) {
  const shape = config.test;
  return {
    seconds: Math.min(shape.max_seconds, Math.max(shape.seconds, shape.round_trips * rttMs / 1000)),
    share: shape.warmup_share,
    budget: mobile ? shape.mobile_bytes : Infinity,
    streamsFor: (mbps) => Math.min(shape.max_streams, Math.max(shape.first_streams,
      Math.ceil(mbps * 1e6 / 8 * rttMs / 1000 / shape.stream_window_bytes))),
    firstStreams: shape.first_streams,
    firstWindowMs: Math.max(1000, 4 * rttMs),
  };
}

// Streams move bytes for the plan's seconds (or its bytes); pings run beside them for the latency under load.
async function phase(kind, url, ticket, how) {
  const stop = new AbortController();
  let moved = 0;
  const began = performance.now();
  const samples = [[0, 0]];
  let finished;
  const over = new Promise((resolve) => { finished = resolve; });
  const timer = setTimeout(finished, how.seconds * 1000);
  const blob = kind === "upload" ? new Blob([new Uint8Array(16 << 20)]) : null;
  const one = async () => {
    while (!stop.signal.aborted) {
      try {
        if (kind === "download") {
          const answer = await fetch(`${url}garbage.php?ckSize=100&ticket=${ticket}&r=${Math.random()}`, { signal: stop.signal, cache: "no-store" });
          const reader = answer.body.getReader();
          for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            moved += value.length;
            if (moved >= how.budget) finished();
          }
        } else {
          await uploadOnce(`${url}empty.php?ticket=${ticket}&r=${Math.random()}`, blob, stop, (n) => {
            moved += n;
            if (moved >= how.budget) finished();
          });
        }
      } catch (error) { if (!stop.signal.aborted) throw error; }
    }
  };
  const runners = Array.from({ length: how.firstStreams }, one);
  const show = setInterval(() => {
    const now = performance.now() - began;
    samples.push([now, moved]);
    $("live").textContent = `${number(moved * 8 / (now / 1000) / 1e6)} Mbit/s`;
  }, 250);
  const widen = setTimeout(() => {  // after a first window: as many streams as the line holds in flight
    const mbps = moved * 8 / ((performance.now() - began) / 1000) / 1e6;
    for (let i = runners.length; i < how.streamsFor(mbps); i++) runners.push(one());
  }, how.firstWindowMs);
  const loaded = [];
  const pinging = (async () => {
    while (!stop.signal.aborted) {
      try { loaded.push(await rtt(url)); } catch (error) { break; }
      await new Promise((r) => setTimeout(r, 300));
    }
  })();
  await over;
  samples.push([performance.now() - began, moved]);
  stop.abort();
  clearTimeout(timer);
  clearTimeout(widen);
  clearInterval(show);
  await Promise.allSettled([...runners, pinging]);
  return { mbps: rateAfterWarmup(samples, how.share), loaded: median(loaded), streams: runners.length,
    seconds: samples[samples.length - 1][0] / 1000, bytes: moved };
}

function say(text) { $("phase").textContent = text; }

function verdict(figures, access) {
  const lines = [];
  for (const threshold of config.thresholds.filter((x) => x.access === access)) {
    // a figure the server could not vouch for judges nothing: neither met nor missed
    if ((threshold.download_mbps != null && figures.download_mbps == null)
      || (threshold.upload_mbps != null && figures.upload_mbps == null)) continue;
    const ok = (threshold.download_mbps == null || figures.download_mbps >= threshold.download_mbps)
      && (threshold.upload_mbps == null || figures.upload_mbps >= threshold.upload_mbps);
    lines.push(t(ok ? "meets" : "misses", { name: threshold.name }));
  }
  return lines.join(" ");
}

function goodFor(down) {
  if (down >= 100) return t("good_4k");
  if (down >= 25) return t("good_hd");
  if (down >= 5) return t("good_sd");
  return t("good_little");
}

// The commune's figure as the province publishes it (its agents'), beside the resident's own.
function publishedMedian(access) {
  const found = ((config.medians || {})[chosen.code] || {})[access];
  const kind = t(`kind_${access}`);
  if (!found) return t("no_median", { commune: chosen.name });
  return t("median", { commune: chosen.name, access: kind, tests: number(found.tests, 0),
    down: number(found.download_mbps), up: number(found.upload_mbps) });
}

// The figures the registry puts on the page (config.figures, its labels in the page's language): download and
// upload as the test server counted them, the others as the page measured them.
function showResult(server, page) {
  const values = { ...page, download_mbps: server.download_mbps, upload_mbps: server.upload_mbps };
  const list = $("figures");
  list.replaceChildren();
  for (const figure of config.figures) {
    const value = values[figure.name];
    const term = document.createElement("dt"); term.textContent = figure.label;
    const detail = document.createElement("dd");
    detail.textContent = value == null ? "–" : `${number(value)} ${figure.unit}`;
    list.append(term, detail);
  }
  $("verdict").textContent = verdict(server, $("access").value);
  $("median").textContent = publishedMedian($("access").value);
  $("good-for").textContent = server.download_mbps == null ? "" : goodFor(server.download_mbps);
}

async function run() {
  if (!chosen) { $("commune").focus(); say(t("pick_commune")); $("progress").hidden = false; return; }
  $("start").disabled = true;
  $("progress").hidden = false;
  const result = $("result");
  result.hidden = true;
  result.dataset.state = "running";
  try {
    say(t("choosing"));
    const server = await nearest(config.servers);
    const issued = await postJson("/do/ticket", { server_id: server.id });
    const ticket = encodeURIComponent(issued.ticket); // the test server serves only a ticket the collector signed
    say(t("latency"));
    const idle = await latency(server.url);
    say(t("download"));
    const mobile = $("access").value === "mobile" || (navigator.connection || {}).type === "cellular";
    const how = plan(idle.ms, mobile);
    const down = await phase("download", server.url, ticket, how);
    say(t("upload"));
    const up = await phase("upload", server.url, ticket, how);
    say(t("sending"));
    const summary = (await (await fetch(`${server.url}summary?ticket=${ticket}`, { cache: "no-store" })).json()).summary;
    const page = { download_mbps: down.mbps, upload_mbps: up.mbps, latency_ms: idle.ms, jitter_ms: idle.jitter };
    const stored = await postJson("/do/result", { ticket: issued.ticket, summary, commune_code: chosen.code,
      access: $("access").value, isp: $("isp").value, wifi: $("wifi").checked, page,
      ...(config.connections.includes((navigator.connection || {}).type) ? { connection: navigator.connection.type } : {}) }).catch((error) => {
      if (error.code !== "sender_cap") throw error;
      return { ...page, flags: [], uncounted: true }; // the page's own figures, shown; the commune has today's from here
    });
    showResult(stored, { ...page, loaded_latency_ms: median([down.loaded, up.loaded].filter((x) => x != null)) });
    if (stored.uncounted) $("verdict").textContent += ` ${t("err_sender_cap")}`;
    if ((stored.flags || []).includes("server_unsure")) $("verdict").textContent += ` ${t("unsure")}`;
    Object.assign(result.dataset, { downloadMbps: stored.download_mbps ?? "", uploadMbps: stored.upload_mbps ?? "",
      latencyMs: page.latency_ms, resultId: stored.result_id ?? "", seconds: down.seconds + up.seconds,
      bytes: down.bytes + up.bytes, streams: `${down.streams}/${up.streams}` });
    result.dataset.state = "done";
    say("");
    $("live").textContent = "";
  } catch (error) {
    result.dataset.state = "error";
    result.dataset.error = String(error.message || error);
    $("figures").replaceChildren();
    $("verdict").textContent = t("failed", { why: result.dataset.error });
    $("good-for").textContent = "";
    $("median").textContent = "";
  } finally {
    result.hidden = false;
    $("progress").hidden = true;
    $("start").disabled = false;
  }
}

// Every control answers at once; what needs the collector's list waits for it (on a slow line the
// resident may agree and type before it arrives: nothing they do is lost).
async function start() {
  translate();
  $("start").disabled = true;
  const kind = navigator.connection && navigator.connection.type;
  if (kind === "cellular") $("access").value = "mobile";
  if (kind === "wifi") $("wifi").checked = true;
  $("consent-accept").addEventListener("click", () => { $("consent").hidden = true; $("form").hidden = false; $("commune").focus(); });
  $("commune").addEventListener("input", showOptions);
  $("commune").addEventListener("keydown", (event) => {
    const first = $("commune-list").querySelector("[role=option]");
    if (event.key === "ArrowDown" && first) { event.preventDefault(); first.focus(); }
  });
  $("start").addEventListener("click", run);
  $("locate").addEventListener("click", locate);
  config = await (await fetch(`/do/config?lang=${LANG}`)).json();
  document.dispatchEvent(new CustomEvent("dokiem-config", { detail: config }));  // the report form's (nosignal.js)
  for (const isp of config.isps) $("isp").append(new Option(isp, isp));
  $("start").disabled = false;
  if ($("commune").value.trim()) showOptions();
}

document.addEventListener("DOMContentLoaded", start);
