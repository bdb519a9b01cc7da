// Types a review into the Textflix page in headless Chromium, checks the sentiment and the
// highlighted words, posts it, and saves a screenshot.
//
// usage: node app.mjs http://127.0.0.1:PORT screenshot.png
import { chromium } from "playwright-core";

const [url, screenshot] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const fail = async (message) => { console.error("FAIL:", message); await browser.close(); process.exit(1); };
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  await page.goto(url);
  await page.waitForSelector("#movies tr");
  const movies = await page.locator("#movies tr").count();
  const review = "An absolutely wonderful film: brilliant acting, a moving story and a superb score. I loved it.";
  await page.fill("#review", review);
  await page.click("#analyse");
  await page.waitForSelector("#result", { state: "visible" });
  const sentiment = await page.textContent("#sentiment");
  const words = await page.locator("#highlighted span.word").count();
  const strong = await page.locator("#highlighted span.pos").count();
  const shown = await page.textContent("#highlighted");
  if (sentiment.trim() !== "positive") await fail(`sentiment shown: ${sentiment}`);
  if (words < 5 || strong < 1) await fail(`highlighted words: ${words}, strongly positive: ${strong}`);
  if (shown.trim() !== review) await fail(`the highlighted text differs from the review: ${shown}`);
  const method = (await page.textContent("#method")).trim();
  if (!method) await fail("the page does not say how the words were scored");
  const against = await page.locator("#highlighted span.neg").allTextContents();
  const wrong = ["wonderful", "brilliant", "superb", "loved"].filter((w) => against.includes(w));
  if (wrong.length) await fail(`clear praise shown as pushing towards negative (${method}): ${wrong}`);

  await page.fill("#review", "Dreadful, boring and painfully slow. The worst film I have seen this year.");
  await page.click("#post");
  await page.waitForFunction(() => document.querySelector("#sentiment").textContent.trim() === "negative");
  await page.fill("#review", "   ");
  await page.click("#analyse");
  await page.waitForFunction(() => document.querySelector("#error").textContent.includes("empty"));

  await page.fill("#review", review);
  await page.click("#analyse");
  await page.waitForFunction(() => document.querySelector("#sentiment").textContent.trim() === "positive");
  await page.screenshot({ path: screenshot, fullPage: true });
  console.log(JSON.stringify({ ok: true, movies, sentiment: sentiment.trim(), method, highlighted_words: words, strongly_positive_words: strong, screenshot }));
} catch (e) {
  await fail(e.message);
}
await browser.close();
