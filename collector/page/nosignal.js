// "Báo mất sóng" (issue 31): a resident reports where their mobile network fails, often where there is no
// network at all. The position becomes an H3 cell here, on the phone (the point is never sent or kept); the
// report waits in this browser's storage and goes when the phone is back online. The service worker keeps
// the page itself, so it opens without a network too. Runs after do.js, whose LANG, TEXT, t and $ it uses.
"use strict";

Object.assign(TEXT.vi, {
  report_link: "Báo mất sóng",
  report_title: "Báo mất sóng di động",
  report_intro: "Ở đây không có sóng, có sóng mà không vào được mạng, hay mạng quá chậm? Hãy báo ngay tại chỗ, kể cả khi không có mạng: trang giữ lời báo và tự gửi khi có mạng.",
  report_privacy: "Chúng tôi chỉ lưu: ô lục giác khoảng {km2} km² quanh nơi bạn đứng (không lưu vị trí chính xác), nhà mạng, điều bạn báo và thời điểm báo. Không lưu địa chỉ IP, không dùng cookie. Chỉ công bố những ô có người dân báo từ ít nhất {senders} người gửi trong ít nhất {min_days} ngày. Lời báo được lưu {days} ngày rồi xóa.",
  report_consent: "Tôi đồng ý gửi lời báo như trên",
  report_operator: "Nhà mạng của SIM", report_failure: "Điều gì không được?",
  failure_no_signal: "Không có sóng", failure_no_data: "Có sóng nhưng không vào được mạng", failure_too_slow: "Mạng quá chậm, không dùng được",
  report_send: "Báo tại vị trí của tôi", report_locating: "Đang lấy vị trí (hãy bật định vị, đứng chỗ thoáng)…",
  report_need_consent: "Hãy đánh dấu ô đồng ý trước khi báo.",
  report_inaccurate: "Vị trí chưa đủ chính xác (±{got} m, cần ±{max} m hoặc tốt hơn): hãy bật GPS, ra chỗ thoáng rồi thử lại.",
  report_no_position: "Không lấy được vị trí: {why}. Hãy cho phép trang dùng vị trí rồi thử lại.",
  report_waiting: "Đã lưu lời báo trên máy, sẽ gửi khi có mạng.",
  report_sent: "Đã gửi lời báo. Cảm ơn bạn!",
  report_refused: "Lời báo không được nhận: {why}.",
  report_expired: "Một lời báo đã quá {days} ngày mà chưa gửi được nên đã bỏ.",
  report_queue_title: "Đang chờ gửi",
  report_item: "{operator}: {failure}, lúc {at}",
  err_inaccurate: "vị trí chưa đủ chính xác", err_outside: "nơi báo không thuộc xã, phường nào của tỉnh",
  err_too_old: "lời báo đã quá cũ", err_in_future: "đồng hồ của máy đang chạy sai",
});
Object.assign(TEXT.en, {
  report_link: "Report no signal",
  report_title: "Report no mobile signal",
  report_intro: "No signal here, signal but no data, or data too slow to use? Report it where you are, even with no network: the page keeps the report and sends it when there is a network.",
  report_privacy: "We keep only: the hexagonal cell of about {km2} km² around where you stand (not your exact position), the operator, what you report and when. We keep no IP address and use no cookie. Only cells reported by at least {senders} senders on at least {min_days} days are published. Reports are kept {days} days, then deleted.",
  report_consent: "I agree to send the report as above",
  report_operator: "Your SIM's operator", report_failure: "What fails?",
  failure_no_signal: "No signal", failure_no_data: "Signal, but no data", failure_too_slow: "Data too slow to use",
  report_send: "Report at my location", report_locating: "Getting the location (turn location on, stand in the open)…",
  report_need_consent: "Tick the agreement first.",
  report_inaccurate: "The location is not accurate enough (±{got} m, ±{max} m or better needed): turn GPS on, go into the open and try again.",
  report_no_position: "No location: {why}. Allow the page to use the location and try again.",
  report_waiting: "Report saved on this phone; it will be sent when there is a network.",
  report_sent: "Report sent. Thank you!",
  report_refused: "The report was not taken: {why}.",
  report_expired: "A report not sent within {days} days was dropped.",
  report_queue_title: "Waiting to be sent",
  report_item: "{operator}: {failure}, at {at}",
  err_inaccurate: "the location is not accurate enough", err_outside: "the place is in none of the province's communes",
  err_too_old: "the report is too old", err_in_future: "this phone's clock is wrong",
});

(() => {  // its own scope: do.js's names stay do.js's
const QUEUE_KEY = "dokiem.nosignal.queue";  // reports made, not yet taken by the collector
const CONSENT_KEY = "dokiem.nosignal.consent";
const RETRY_MS = 30000;  // "signal but no data" raises no online event: try again now and then
let reportRules = null;  // the config's "report": operators and the bounds the collector holds

function queued() {
  try { return JSON.parse(localStorage.getItem(QUEUE_KEY) || "[]"); } catch (error) { return []; }
}

function keep(reports) {
  localStorage.setItem(QUEUE_KEY, JSON.stringify(reports));
  showQueue();
}

function showQueue() {
  const list = $("report-queue");
  const waiting = queued();
  list.replaceChildren();
  for (const report of waiting) {
    const item = document.createElement("li");
    const at = new Date(report.made_at).toLocaleString(LANG === "vi" ? "vi-VN" : "en-GB", { dateStyle: "short", timeStyle: "short" });
    item.textContent = t("report_item", { operator: report.operator, failure: t(`failure_${report.failure}`), at });
    list.append(item);
  }
  $("report-waiting").hidden = waiting.length === 0;
  document.body.dataset.reportsWaiting = String(waiting.length);
}

function say(key, vars) {
  $("report-note").textContent = t(key, vars);
  $("report-note").dataset.key = key;
}

function loadH3() {
  if (window.h3) return Promise.resolve(window.h3);
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = "/do/static/h3.js";
    script.onload = () => resolve(window.h3);
    script.onerror = () => reject(new Error("h3.js"));
    document.head.append(script);
  });
}

function position() {
  return new Promise((resolve, reject) => {
    if (!navigator.geolocation) { reject(new Error("—")); return; }
    navigator.geolocation.getCurrentPosition(resolve, reject, { enableHighAccuracy: true, timeout: 30000, maximumAge: 60000 });
  });
}

// The report made: the cell of the position, and nothing of the position itself.
async function makeReport() {
  if (!$("report-consent").checked) { say("report_need_consent"); return; }
  localStorage.setItem(CONSENT_KEY, "1");
  if (!reportRules) return;
  $("report-send").disabled = true;
  say("report_locating");
  try {
    const [h3, found] = await Promise.all([loadH3(), position()]);
    const accuracy = Math.round(found.coords.accuracy);
    if (accuracy > reportRules.max_accuracy_m) {
      say("report_inaccurate", { got: accuracy, max: reportRules.max_accuracy_m });
      return;
    }
    const cell = h3.latLngToCell(found.coords.latitude, found.coords.longitude, reportRules.cell_resolution);
    const failure = document.querySelector("input[name=failure]:checked").value;
    keep([...queued(), { report_id: crypto.randomUUID(), made_at: new Date().toISOString(), operator: $("report-operator").value,
      failure, cell, accuracy_m: accuracy, consent: true }]);
    say("report_waiting");
    await flush();
  } catch (error) {
    say("report_no_position", { why: error.message || String(error) });
  } finally {
    $("report-send").disabled = false;
  }
}

// Send what waits, oldest first. Taken (or taken before: 409) leaves the queue; refused (422) leaves it with
// its reason shown; anything else (no network, busy, too many) stays for the next try.
let flushing = false;
async function flush() {
  if (flushing) return;
  flushing = true;
  try {
    const oldest = Date.now() - (reportRules ? reportRules.max_age_days : 7) * 86400000;
    for (const report of queued()) {
      if (Date.parse(report.made_at) < oldest) {
        keep(queued().filter((r) => r.report_id !== report.report_id));
        say("report_expired", { days: reportRules ? reportRules.max_age_days : 7 });
        continue;
      }
      let answer;
      try {
        answer = await fetch("/do/report", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(report) });
      } catch (error) {
        say("report_waiting");
        return;  // no network: every later report waits too
      }
      if (answer.ok || answer.status === 409) {
        keep(queued().filter((r) => r.report_id !== report.report_id));
        say("report_sent");
      } else if (answer.status === 422) {
        const data = await answer.json().catch(() => ({}));
        keep(queued().filter((r) => r.report_id !== report.report_id));
        say("report_refused", { why: TEXT[LANG][`err_${data.error}`] || data.detail || data.error });
      } else {
        say("report_waiting");
        return;
      }
    }
  } finally {
    flushing = false;
  }
}

function startReports(config) {
  reportRules = config.report;
  const operators = $("report-operator");
  operators.replaceChildren(...reportRules.operators.map((name) => new Option(name, name)));
  $("report-privacy").textContent = t("report_privacy", { km2: number(reportRules.cell_km2, 2), senders: reportRules.min_senders,
    min_days: reportRules.min_days, days: number(reportRules.keep_days, 0) });
  $("report-send").disabled = false;
  flush();
}

document.addEventListener("DOMContentLoaded", () => {
  $("report-consent").checked = localStorage.getItem(CONSENT_KEY) === "1";
  $("report-send").addEventListener("click", makeReport);
  showQueue();
  window.addEventListener("online", flush);
  setInterval(() => { if (queued().length) flush(); }, RETRY_MS);
  if ("serviceWorker" in navigator) navigator.serviceWorker.register("/do/sw.js", { scope: "/do/" }).catch(() => {});
});
document.addEventListener("dokiem-config", (event) => startReports(event.detail));
})();
