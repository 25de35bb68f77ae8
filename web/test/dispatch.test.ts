/**
 * The dispatch board asks the server who can take a job (dispatch.candidates): the "Move…"
 * menu lists every provider of the day, those who cannot take the job disabled with the
 * server's reason in words (never an id), and moving the job to one who can works. Time off
 * over a booked job shows the affected job first, then moves it off the provider, and the
 * board shows the time off on the provider's lane.
 */
import type { Page } from "playwright-core";
import { describe, expect, test } from "vitest";
import { screenshot, signIn, useStack } from "./fixture";

const { newPage } = useStack();
const LIVE_MS = 20_000;
/** Convex ids are long runs of lowercase letters and digits; no message a person sees has one. */
const ID_LIKE = /\b[a-z0-9]{24,}\b/;

async function dispatcherPage(): Promise<Page> {
  const page = await newPage("dispatcher");
  await signIn(page, "demo-dispatcher", "/dispatch");
  await page.locator(".board").waitFor();
  return page;
}

type Menu = { bookingId: string; fromLane: string; target: string | null; refused: string[] };

/** Opens a job's Move… menu and reads it: each entry refused with a reason in words, or open. */
async function readMenu(page: Page, bookingId: string): Promise<Menu> {
  const job = page.locator(`.job[data-booking="${bookingId}"]`);
  const fromLane = (await page.locator(".lane-row", { has: job }).getAttribute("data-provider"))!;
  await job.getByRole("button", { name: /^(Assign|Move)… .*'s job to/ }).click();
  const items = job.getByTestId("move-menu").locator('[role="menuitem"][data-provider]');
  await items.first().waitFor();
  const refused: string[] = [];
  let target: string | null = null;
  const count = await items.count();
  expect(count).toBeGreaterThan(1);
  for (let i = 0; i < count; i++) {
    const item = items.nth(i);
    const name = (await item.getAttribute("data-provider"))!;
    const text = await item.innerText();
    expect(text).not.toMatch(ID_LIKE);
    if (await item.isDisabled()) {
      // The reason is in words after the name: "— busy 10:00–12:30", "— does not do Deep clean", …
      expect(text).toMatch(new RegExp(`^${name}\\s+—\\s+\\S`));
      refused.push(text);
    } else if (name !== fromLane && target === null) {
      target = name;
    }
  }
  return { bookingId, fromLane, target, refused };
}

async function openDay(page: Page, date: string): Promise<void> {
  await page.goto(`/dispatch?date=${date}`);
  await page.locator(".board").waitFor();
  await page.locator(".lane-row").first().waitFor();
}

/** Walks the board forward from today until a lane job has another provider who can take it. */
async function movableJob(page: Page): Promise<Menu> {
  let date = await page.locator(`input[type="date"][aria-label="Day"]`).inputValue();
  for (let day = 0; day < 10; day++) {
    await openDay(page, date);
    const jobs = page.locator(".lane-row .job.in-lane", { has: page.getByRole("button", { name: /^(Assign|Move)… .*'s job to/ }) });
    const ids: string[] = [];
    for (let i = 0; i < (await jobs.count()); i++) ids.push((await jobs.nth(i).getAttribute("data-booking"))!);
    for (const id of ids) {
      await openDay(page, date);
      const menu = await readMenu(page, id);
      // The job's own provider already has it: at least that entry is refused, with a reason.
      expect(menu.refused.length).toBeGreaterThan(0);
      if (menu.target !== null) return menu;
    }
    await page.getByRole("button", { name: "Next day" }).click();
    await expect.poll(() => page.locator(`input[type="date"][aria-label="Day"]`).inputValue()).not.toBe(date);
    date = await page.locator(`input[type="date"][aria-label="Day"]`).inputValue();
  }
  throw new Error("no lane job over the next ten days that another provider can take");
}

type Point = { x: number; y: number };
async function centre(page: Page, selector: string): Promise<Point> {
  const box = (await page.locator(selector).first().boundingBox())!;
  return { x: box.x + Math.min(box.width / 2, 40), y: box.y + box.height / 2 };
}

/** A finger pressing on `from`, holding, sliding to `to` and lifting (Chrome's touch events). */
async function touchDrag(page: Page, from: Point, to: Point): Promise<void> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Input.dispatchTouchEvent", { type: "touchStart", touchPoints: [from] });
  await page.waitForTimeout(350); // press and hold picks the job up
  for (let i = 1; i <= 10; i++) {
    const at = { x: from.x + ((to.x - from.x) * i) / 10, y: from.y + ((to.y - from.y) * i) / 10 };
    await cdp.send("Input.dispatchTouchEvent", { type: "touchMove", touchPoints: [at] });
    await page.waitForTimeout(30);
  }
  await cdp.send("Input.dispatchTouchEvent", { type: "touchEnd", touchPoints: [] });
  await cdp.detach();
}

async function mouseDrag(page: Page, from: Point, to: Point): Promise<void> {
  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  await page.mouse.move(from.x + 10, from.y + 10, { steps: 3 });
  await page.mouse.move(to.x, to.y, { steps: 10 });
  await page.mouse.up();
}

describe("dispatch board", () => {
  test("a job is dragged to another provider by touch (press and hold) and back by mouse", async () => {
    const page = await newPage("dispatcher-touch", { touch: true });
    await signIn(page, "demo-dispatcher", "/dispatch");
    await page.locator(".board").waitFor();
    const { bookingId, fromLane, target } = await movableJob(page);
    await page.keyboard.press("Escape");
    await page.getByTestId("move-menu").waitFor({ state: "detached" });
    const job = `.job[data-booking="${bookingId}"]`;
    const lane = (name: string) => `.lane-row[data-provider="${name}"] .lane`;

    await touchDrag(page, await centre(page, job), await centre(page, lane(target!)));
    await expect.poll(() => page.locator(`.lane-row[data-provider="${target}"] ${job}`).count(), { timeout: LIVE_MS }).toBe(1);
    expect(await page.locator(`.lane-row[data-provider="${fromLane}"] ${job}`).count()).toBe(0);

    await mouseDrag(page, await centre(page, job), await centre(page, lane(fromLane)));
    await expect.poll(() => page.locator(`.lane-row[data-provider="${fromLane}"] ${job}`).count(), { timeout: LIVE_MS }).toBe(1);
    expect(await page.getByRole("alert").count()).toBe(0);
    await page.context().close();
  });

  test("Move… shows who cannot take the job and why, and moving to one who can works", async () => {
    const page = await dispatcherPage();
    const { bookingId, fromLane, target, refused } = await movableJob(page);
    expect(refused.some((r) => /already has this job/.test(r))).toBe(true);
    await screenshot(page, "20-dispatch-move-menu");
    const menu = page.locator(`.job[data-booking="${bookingId}"]`).getByTestId("move-menu");
    await menu.locator(`[role="menuitem"][data-provider="${target}"]`).click();
    await expect
      .poll(() => page.locator(`.lane-row[data-provider="${target}"] .job[data-booking="${bookingId}"]`).count(), { timeout: LIVE_MS })
      .toBe(1);
    expect(await page.locator(`.lane-row[data-provider="${fromLane}"] .job[data-booking="${bookingId}"]`).count()).toBe(0);
    expect(await page.getByRole("alert").count()).toBe(0);
    await page.context().close();
  });

  test("time off over a booked job shows the job first, moves it, and the board shows the time off", async () => {
    const owner = await newPage("owner");
    await signIn(owner, "demo-owner", "/dispatch");
    await owner.locator(".board").waitFor();
    // A booked job on a provider's lane, from today on.
    const dayInput = owner.locator(`input[type="date"][aria-label="Day"]`);
    let found: { bookingId: string; provider: string; date: string } | null = null;
    for (let day = 0; day < 10 && found === null; day++) {
      const date = await dayInput.inputValue();
      await openDay(owner, date);
      const job = owner.locator(".lane-row .job.in-lane", { has: owner.getByRole("button", { name: /^(Assign|Move)… .*'s job to/ }) }).first();
      if ((await job.count()) > 0) {
        const bookingId = (await job.getAttribute("data-booking"))!;
        const provider = (await owner.locator(".lane-row", { has: owner.locator(`.job[data-booking="${bookingId}"]`) }).getAttribute("data-provider"))!;
        found = { bookingId, provider, date };
      } else {
        await owner.getByRole("button", { name: "Next day" }).click();
        await expect.poll(() => dayInput.inputValue()).not.toBe(date);
      }
    }
    expect(found, "a booked job on a lane in the next ten days").not.toBeNull();
    const { bookingId, provider, date } = found!;

    await owner.goto("/owner/staff");
    await owner.getByRole("row", { name: new RegExp(provider) }).getByRole("button", { name: "Schedule" }).click();
    const card = owner.locator(".card", { hasText: `${provider}'s schedule` });
    const form = card.locator("form", { has: owner.getByRole("button", { name: "Add time off" }) });
    await form.getByLabel("First day off").fill(date);
    await form.getByLabel("Last day off").fill(date);
    await form.getByLabel("Reason").fill("School play");
    await form.getByRole("button", { name: "Add time off" }).click();

    // First the affected jobs, nothing changed yet.
    const review = owner.getByTestId("impact-review");
    await review.waitFor();
    await review.locator(`[data-booking="${bookingId}"]`).waitFor();
    expect(await review.innerText()).not.toMatch(ID_LIKE);
    await screenshot(owner, "21-time-off-impact");
    await review.getByRole("button", { name: /^Move (the job|\d+ jobs) and save$/ }).click();
    await expect.poll(() => owner.getByTestId("impact-review").count(), { timeout: LIVE_MS }).toBe(0);
    await expect.poll(() => card.innerText(), { timeout: LIVE_MS }).toMatch(/\(School play\)/);

    // The board: the job is off the provider's lane, and the lane shows the time off.
    await openDay(owner, date);
    const lane = owner.locator(`.lane-row[data-provider="${provider}"]`);
    const note = lane.getByTestId("time-off-note").filter({ hasText: "(School play)" });
    await expect.poll(() => note.count(), { timeout: LIVE_MS }).toBe(1);
    expect(await note.innerText()).toMatch(/^Time off \d\d:\d\d [AP]M–\d\d:\d\d [AP]M \(School play\)$/);
    expect(await lane.locator(`.job[data-booking="${bookingId}"]`).count()).toBe(0);
    expect(await owner.locator(`.job[data-booking="${bookingId}"]`).count()).toBe(1);
    await screenshot(owner, "22-board-time-off");
    await owner.context().close();
  });
});
