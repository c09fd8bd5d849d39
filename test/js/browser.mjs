// test/js/browser.mjs: drives Debian's headless Chromium (through
// playwright-core) through the steps of a plan that a Python test wrote, and
// prints what the browser saw as one JSON document; the test asserts on it.
// The browser does what a user's browser would: CORS preflights, redirects,
// form submissions, with no help from the test.
//
//   node browser.mjs PLAN.json
//
// The plan: {"resolve": "MAP *.test 127.0.0.1", "steps": [STEP, ...]}, each
// step one of
//   {"do": "fetch", "page": URL, "url": URL, "method": "PUT",
//    "headers": {...}, "body": "text", "read": ["etag", ...]}
//       opens page (the origin the script runs in) and calls fetch() there:
//       {"status", "headers": {name: value of each name in read}, "text"}
//       or {"error": "TypeError: Failed to fetch"} when the browser blocked it
//   {"do": "visit", "url": URL}
//       navigates: {"status", "url" (after redirects), "chain": [status of
//       every response on the way], "text" (the body's text), "title"}
//   {"do": "click", "url": URL, "selector": CSS}
//       opens url, clicks the link the selector finds and waits for the
//       navigation: the same fields as "visit", of the page it lands on.
//   {"do": "form", "page": URL, "file": {"name", "text"}, "selector": CSS}
//       opens page, puts the file into its <input type=file>, clicks the
//       selector and waits for the navigation: the same fields as "visit".
// Each step's result also carries "requests": the method and URL of every
// request the browser sent while it ran (preflights included).

import { chromium } from 'playwright-core';
import { readFileSync } from 'node:fs';

const plan = JSON.parse(readFileSync(process.argv[2], 'utf8'));

async function visitResult(page, resp) {
    const chain = [];
    for (let q = resp ? resp.request() : null; q; q = q.redirectedFrom()) {
        const r = await q.response();
        chain.unshift(r ? r.status() : 0);
    }
    return {
        status: resp ? resp.status() : 0,
        url: page.url(),
        chain,
        text: await page.evaluate(() => document.body ? document.body.innerText : ''),
        title: await page.title(),
    };
}

async function fetchStep(page, step) {
    await page.goto(step.page);
    return page.evaluate(async (s) => {
        try {
            const r = await fetch(s.url, {
                method: s.method || 'GET',
                headers: s.headers || {},
                body: s.body === undefined ? undefined : s.body,
                mode: 'cors',
            });
            const headers = {};
            for (const h of s.read || []) {
                headers[h] = r.headers.get(h);
            }
            return { status: r.status, headers, text: await r.text() };
        } catch (e) {
            return { error: String(e) };
        }
    }, step);
}

async function formStep(page, step) {
    await page.goto(step.page);
    await page.setInputFiles('input[type=file]', {
        name: step.file.name,
        mimeType: step.file.type || 'text/plain',
        buffer: Buffer.from(step.file.text, 'utf8'),
    });
    const [resp] = await Promise.all([
        page.waitForNavigation({ waitUntil: 'load' }),
        page.click(step.selector || 'input[type=submit]'),
    ]);
    return visitResult(page, resp);
}

async function clickStep(page, step) {
    await page.goto(step.url);
    const [resp] = await Promise.all([
        page.waitForNavigation({ waitUntil: 'load' }),
        page.click(step.selector),
    ]);
    return visitResult(page, resp);
}

async function main() {
    const browser = await chromium.launch({
        executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
        headless: true,
        args: ['--no-sandbox', '--disable-gpu', '--no-proxy-server',
               '--host-resolver-rules=' + (plan.resolve || '')],
    });
    const results = [];
    try {
        for (const step of plan.steps) {
            // A fresh context per step: no cached preflight or page state
            // carries over from one step to the next.
            const context = await browser.newContext();
            const page = await context.newPage();
            const requests = [];
            page.on('request', (q) => requests.push(q.method() + ' ' + q.url()));
            let res;
            try {
                if (step.do === 'fetch') {
                    res = await fetchStep(page, step);
                } else if (step.do === 'visit') {
                    res = await visitResult(page, await page.goto(step.url));
                } else if (step.do === 'click') {
                    res = await clickStep(page, step);
                } else if (step.do === 'form') {
                    res = await formStep(page, step);
                } else {
                    res = { error: 'unknown step ' + step.do };
                }
            } catch (e) {
                res = { error: 'driver: ' + String(e) };
            }
            res.requests = requests;
            results.push(res);
            await context.close();
        }
    } finally {
        await browser.close();
    }
    process.stdout.write(JSON.stringify(results) + '\n');
}

main().catch((e) => {
    process.stderr.write(String(e && e.stack || e) + '\n');
    process.exit(1);
});
