// firefox_bridge.mjs - drives Debian's firefox-esr for the Python tests (tests/browsers.py), over
// WebDriver BiDi through puppeteer-core (npm, package-lock.json): no driver binary, no download.
//
// Protocol: one JSON request per line on stdin, {id, op, args}; one JSON reply per line on stdout,
// {id, ok: true, value} or {id, ok: false, error}. Pages are numbered; each page lives in its own
// browser context (its own storage). Console errors and warnings, page errors and request URLs
// are collected per page and returned by the "drain" op.
//
// Usage: node tests/firefox_bridge.mjs '{"prefs": {...}}'
import puppeteer from "puppeteer-core";
import readline from "node:readline";

const options = JSON.parse(process.argv[2] || "{}");
const browser = await puppeteer.launch({
  browser: "firefox",
  executablePath: options.executable || "/usr/bin/firefox-esr",
  headless: true,
  extraPrefsFirefox: options.prefs || {},
});
const pages = new Map();
let nextPage = 1;

const KEYS = { Space: " " };

async function newPage({ width = 1280, height = 720 }) {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  const record = { page, context, errors: [], requests: [] };
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warn") record.errors.push(m.text());
  });
  page.on("pageerror", (e) => record.errors.push(String(e)));
  page.on("request", (r) => record.requests.push(r.url()));
  page.on("dialog", (d) => d.accept());
  await page.setViewport({ width, height });
  const id = nextPage++;
  pages.set(id, record);
  return id;
}

// Evaluate "(arg) => ..." source with a JSON argument. A string expression goes through BiDi's
// script.evaluate, which the page's Content-Security-Policy does not restrict (as in devtools).
function call(page, source, arg) {
  return page.evaluate(`(${source})(${JSON.stringify(arg ?? null)})`);
}

const ops = {
  newPage: (a) => newPage(a),
  async close({ page }) {
    const record = pages.get(page);
    pages.delete(page);
    await record.context.close();
  },
  async goto({ page, url }) {
    const p = pages.get(page).page;
    const [before] = p.url().split("#");
    const [after] = url.split("#");
    if (before === after && url.includes("#")) {
      // same document, another fragment: what a learner's click on a link does
      await call(p, "(u) => { location.href = u; }", url);
    } else {
      await p.goto(url, { waitUntil: "load" });
    }
  },
  async reload({ page }) { await pages.get(page).page.reload({ waitUntil: "load" }); },
  url: ({ page }) => pages.get(page).page.url(),
  evaluate: ({ page, source, arg }) => call(pages.get(page).page, source, arg),
  async press({ page, key }) { await pages.get(page).page.keyboard.press(KEYS[key] || key); },
  async type({ page, text }) { await pages.get(page).page.keyboard.type(text); },
  async click({ page, selector }) { await pages.get(page).page.click(selector); },
  async clickAt({ page, x, y }) { await pages.get(page).page.mouse.click(x, y); },
  async setFiles({ page, selector, path }) {
    const handle = await pages.get(page).page.$(selector);
    await handle.uploadFile(path);
  },
  async wait({ page, source, arg, timeout }) {
    await pages.get(page).page.waitForFunction(`(${source})(${JSON.stringify(arg ?? null)})`, {
      timeout,
      polling: 50,
    });
  },
  async screenshot({ page, path, fullPage }) {
    await pages.get(page).page.screenshot({ path, fullPage: !!fullPage });
  },
  async pdf({ page, path }) { await pages.get(page).page.pdf({ path, format: "A4" }); },
  async setViewport({ page, width, height }) {
    await pages.get(page).page.setViewport({ width, height });
  },
  drain({ page }) {
    const record = pages.get(page);
    const out = { errors: record.errors, requests: record.requests };
    record.errors = [];
    record.requests = [];
    return out;
  },
  version: () => browser.version(),
};

const lines = readline.createInterface({ input: process.stdin });
let queue = Promise.resolve();
lines.on("line", (line) => {
  const { id, op, args } = JSON.parse(line);
  queue = queue.then(async () => {
    let reply;
    try {
      const value = await ops[op](args || {});
      reply = { id, ok: true, value: value === undefined ? null : value };
    } catch (e) {
      reply = { id, ok: false, error: String((e && e.message) || e) };
    }
    process.stdout.write(JSON.stringify(reply) + "\n");
  });
});
lines.on("close", async () => {
  await queue;
  await browser.close();
  process.exit(0);
});
process.stdout.write(JSON.stringify({ id: 0, ok: true, value: "ready" }) + "\n");
