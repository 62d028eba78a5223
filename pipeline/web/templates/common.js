// Shared by the box's pages (included into a <script>): labels, site time, the API, messages.
const T = {{ labels_json | safe }};
const $ = (s) => document.querySelector(s);
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({"&":"&amp;","<":"&lt;",">":"&gt;",'"':"&quot;","'":"&#39;"}[c]));
// Site time, with its zone, whatever the zone of the browser (a guard's phone, a UTC laptop).
// The zone as the reader names it (北京时间), else as the browser abbreviates it (GMT+8, CET).
const ZONE_WORD = {{ zone_word | tojson }};
const when = (iso) => new Date(iso).toLocaleString("{{ 'zh-CN' if lang == 'zh' else 'en-GB' }}",
  {timeZone: {{ timezone | tojson }}, timeZoneName: ZONE_WORD ? undefined : "short", year: "numeric", month: "2-digit",
   day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23"}) + (ZONE_WORD ? ` ${ZONE_WORD}` : "");
// A time of day at the site (a mute's end), for a browser in any zone.
const clock = (ms) => new Date(ms).toLocaleTimeString("{{ 'zh-CN' if lang == 'zh' else 'en-GB' }}",
  {timeZone: {{ timezone | tojson }}, hour: "2-digit", minute: "2-digit", hourCycle: "h23"});
const fill = (text, values) => text.replace(/\{(\w+)\}/g, (_, k) => values[k] ?? "?");
// One way to the login page: after a logout, a request still in flight answers 401 too, and two
// navigations at once abort each other.
let leaving = false;
function toLogin() { if (!leaving) { leaving = true; location.href = "/login"; } }
async function api(path, options = {}) {
  const r = await fetch(path, {headers: {"Content-Type": "application/json"}, ...options});
  if (r.status === 401) { toLogin(); throw new Error("login"); }
  const body = await r.json().catch(() => ({}));
  if (!r.ok) { throw new Error(body.messages ? body.messages.map(say).join(T.separator) : body.detail || r.statusText); }
  return options.withTotal ? {rows: body, total: Number(r.headers.get("X-Total-Count"))} : body;
}
// Messages (reasons, notes, camera problems) come as a code and values; worded here in the page's language.
const WORDS = {{ words_json | safe }};
const WORDED = new Set(["status", "allowed", "field"]);  // values that are words themselves (wording.WORDED)
function say(m) {
  if (!m) return "";
  const template = WORDS[m.code];
  const value = (k) => (WORDED.has(k) ? m.values[k].split(", ").map((w) => T[w] || w).join(", ") : m.values[k]);
  return template ? template.replace(/\{(\w+)\}/g, (_, k) => (k in m.values ? value(k) : "?")) : Object.values(m.values).join(" ");
}
// Who raised an alarm, in words: an automatic escalation was raised by the system, not by "gatewatch".
// Cameras, lines and zones by the names people read (北门), not their ids (the config's `name:`).
const PLACES = {{ places_json | default('{"cameras": {}, "lines": {}}') | safe }};
const cameraName = (camera) => PLACES.cameras[camera] || camera;
const lineName = (camera, line) => (PLACES.lines[camera] || {})[line] || line;
// People by their names where the admin gave one (王伟), not their logins (wang.w).
const PEOPLE = {{ people_json | default("{}") | safe }};
const person = (username) => PEOPLE[username] || username;
const raiser = (a) => (a.kind === "automatic" ? T.system_raised : person(a.raised_by));
const cameraDetail = (c) => (c.messages && c.messages.length ? c.messages.map(say).join(T.separator) : c.detail || "");
// A button that acts on a second tap within ARM_MS (the one-click alarm, acknowledge all): a press
// in a pocket does nothing, and no dialog asks first.
const ARM_MS = 5000;
function armed(button, fire, confirmation = () => T.alarm_confirm) {
  let timer = null;
  const label = [...button.childNodes];  // its text and any key hint, put back as they were
  const disarm = () => { timer = null; delete button.dataset.armed; button.replaceChildren(...label); };
  button.addEventListener("click", () => {
    if (timer === null) {
      button.dataset.armed = "true"; button.textContent = confirmation();
      timer = setTimeout(disarm, ARM_MS);
      return;
    }
    clearTimeout(timer); disarm();
    fire();
  });
}
