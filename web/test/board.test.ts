/**
 * The dispatch board as a dispatcher reads it, measured in a real Chromium: hour labels that
 * sit on their grid lines and never overlap, job cards whose links are inside them, a list per
 * provider on a phone, no sideways scrolling of the page from 320 px, the map (a point per job
 * with coordinates, the others listed), the queue's filters and search, and the week view.
 */
import AxeBuilder from "@axe-core/playwright";
import type { Page } from "playwright-core";
import { describe, expect, test } from "vitest";
import { screenshot, signIn, useStack } from "./fixture";

const { newPage, problems } = useStack();
/** The demo customers whose addresses have no coordinates (convex/seed.ts). */
const WITHOUT_COORDINATES = new Set(["Robert Brown", "Ana Souza"]);

type Box = { x: number; y: number; width: number; height: number };

async function board(label: string, options: { mobile?: boolean; width?: number } = {}): Promise<Page> {
  const page = await newPage(label, { mobile: options.mobile });
  if (options.width) await page.setViewportSize({ width: options.width, height: 900 });
  await signIn(page, "demo-dispatcher", "/dispatch");
  await page.locator(".board").waitFor();
  return page;
}

async function view(page: Page, name: "Day" | "Map" | "Week"): Promise<void> {
  await page.getByRole("group", { name: "View" }).getByRole("button", { name }).click();
  await expect.poll(() => page.getByRole("group", { name: "View" }).getByRole("button", { name }).getAttribute("aria-pressed")).toBe("true");
}

/** axe's findings (WCAG 2.x A/AA and best practices), one line per violation and element. */
async function axe(page: Page, label: string): Promise<string[]> {
  await page.locator(".state-loading").first().waitFor({ state: "detached", timeout: 30_000 }).catch(() => undefined);
  const result = await new AxeBuilder({ page: page as never }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]).analyze();
  return result.violations.flatMap((v) => v.nodes.map((n) => `${label}: ${v.id} (${v.impact}) ${n.target.join(" ")} — ${v.help}`));
}

/** How far the page is wider than the window (0 = no sideways scrolling). */
async function overflow(page: Page): Promise<number> {
  return page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
}

/** Every card's links and buttons lie inside the card, and the card shows all its text. */
async function clippedCards(page: Page): Promise<string[]> {
  return page.locator(".job").evaluateAll((cards) => {
    const bad: string[] = [];
    for (const card of cards as HTMLElement[]) {
      const c = card.getBoundingClientRect();
      if (card.scrollWidth > card.clientWidth + 1 || card.scrollHeight > card.clientHeight + 1) bad.push(`${card.dataset.customer}: content larger than card`);
      for (const el of card.querySelectorAll<HTMLElement>("a, button, .job-customer, .job-service, .job-address, .badge")) {
        const r = el.getBoundingClientRect();
        if (r.left < c.left - 0.5 || r.right > c.right + 0.5 || r.top < c.top - 0.5 || r.bottom > c.bottom + 0.5) {
          bad.push(`${card.dataset.customer}: "${el.textContent}" outside its card`);
        }
      }
      for (const part of [".job-customer", ".job-service", ".badge"]) {
        if (card.querySelector(part) === null) bad.push(`${card.dataset.customer}: no ${part}`);
      }
    }
    return bad;
  });
}

/** Hour labels: left to right without overlapping, each centred on its grid line. */
async function labelProblems(page: Page): Promise<{ count: number; problems: string[] }> {
  return page.evaluate(() => {
    const labels = [...document.querySelectorAll<HTMLElement>(".tick-label")].map((el) => ({ text: el.textContent, box: el.getBoundingClientRect() }));
    const lines = [...document.querySelectorAll<HTMLElement>(".lane-row:first-of-type .tick-line.labelled, .timeline-grid .lane-row .tick-line.labelled")]
      .slice(0, labels.length)
      .map((el) => el.getBoundingClientRect());
    const problems: string[] = [];
    labels.sort((a, b) => a.box.left - b.box.left);
    for (let i = 1; i < labels.length; i++) {
      if (labels[i].box.left < labels[i - 1].box.right + 4) problems.push(`"${labels[i - 1].text}" and "${labels[i].text}" overlap`);
    }
    if (lines.length !== labels.length) problems.push(`${labels.length} labels for ${lines.length} labelled lines`);
    labels.forEach((l, i) => {
      const line = lines[i];
      if (line && Math.abs(l.box.left + l.box.width / 2 - line.left) > 1.5) problems.push(`"${l.text}" is ${Math.round(l.box.left + l.box.width / 2 - line.left)} px off its line`);
    });
    return { count: labels.length, problems };
  });
}

/** The day's jobs shown on the day view (lanes or lists and the queue): booking id → customer. */
async function dayJobs(page: Page): Promise<Map<string, string>> {
  const pairs = await page.locator(".job").evaluateAll((cards) => (cards as HTMLElement[]).map((c) => [c.dataset.booking!, c.dataset.customer!] as const));
  return new Map(pairs);
}

describe("dispatch board layout", () => {
  test("at 1,440 px hour labels sit on their lines without overlapping, and no card clips its links", async () => {
    const page = await board("board-1440", { width: 1440 });
    await page.locator(".timeline .lane-row .job").first().waitFor();
    const labels = await labelProblems(page);
    expect(labels.count).toBeGreaterThan(4);
    expect(labels.problems).toEqual([]);
    expect(await clippedCards(page)).toEqual([]);
    // Cards sit inside their lane.
    const outside = await page.locator(".lane-row").evaluateAll((rows) =>
      (rows as HTMLElement[]).flatMap((row) => {
        const lane = row.querySelector(".lane")!.getBoundingClientRect();
        return [...row.querySelectorAll<HTMLElement>(".job")]
          .filter((j) => {
            const r = j.getBoundingClientRect();
            return r.left < lane.left - 0.5 || r.right > lane.right + 0.5;
          })
          .map((j) => j.dataset.customer);
      }),
    );
    expect(outside).toEqual([]);
    expect(await overflow(page)).toBe(0);
    // The whole day fits: the timeline does not scroll sideways at this width.
    expect(await page.getByTestId("timeline").evaluate((el) => el.scrollWidth - el.clientWidth)).toBeLessThanOrEqual(0);
    await screenshot(page, "board-01-day-1440");
    await page.context().close();
  });

  test("on a phone (390 px) each provider's day is a list; nothing clips or scrolls sideways, down to 320 px", async () => {
    const page = await board("board-390", { mobile: true });
    const list = page.getByTestId("day-list");
    await list.waitFor();
    expect(await page.getByTestId("timeline").count()).toBe(0);
    const providers = await list.locator(".provider-day").count();
    expect(providers).toBeGreaterThan(2);
    expect(await list.getByRole("heading", { level: 3 }).count()).toBe(providers);
    await list.locator(".job").first().waitFor();
    // A vertical list: each provider's jobs one under the other, as wide as the list.
    const stacked = await list.locator(".provider-day-jobs").evaluateAll((lists) =>
      (lists as HTMLElement[]).every((ol) => {
        const boxes = [...ol.querySelectorAll<HTMLElement>(".job")].map((j) => j.getBoundingClientRect());
        return boxes.every((b, i) => i === 0 || b.top >= boxes[i - 1].bottom - 0.5);
      }),
    );
    expect(stacked).toBe(true);
    const labels = await labelProblems(page);
    expect(labels.problems).toEqual([]);
    expect(await clippedCards(page)).toEqual([]);
    expect(await overflow(page)).toBe(0);
    await screenshot(page, "board-02-day-390");
    const found = await axe(page, "day list (390 px)");
    for (const width of [320, 390]) {
      await page.setViewportSize({ width, height: 800 });
      for (const name of ["Day", "Map", "Week"] as const) {
        await view(page, name);
        await page.locator(name === "Map" ? '[data-testid="day-map"]' : name === "Week" ? '[data-testid="week"]' : ".board").waitFor();
        expect(await overflow(page), `${name} at ${width} px`).toBe(0);
      }
    }
    await view(page, "Map");
    await page.getByTestId("day-map").waitFor();
    found.push(...(await axe(page, "map (390 px)")));
    await screenshot(page, "board-03-map-390");
    await view(page, "Week");
    await page.getByTestId("week").waitFor();
    found.push(...(await axe(page, "week (390 px)")));
    await screenshot(page, "board-04-week-390");
    expect(found).toEqual([]);
    await page.context().close();
  });

  test("the map has a point per job with coordinates, a route per provider, and lists the others", async () => {
    const page = await board("board-map", { width: 1440 });
    const dayInput = page.getByLabel("Day", { exact: true });
    // A day with jobs at addresses with and without coordinates (the demo data has both).
    let checked = false;
    for (let day = 0; day < 4 && !checked; day++) {
      await page.locator(".job").first().waitFor();
      const jobs = await dayJobs(page);
      const located = [...jobs].filter(([, customer]) => !WITHOUT_COORDINATES.has(customer)).map(([id]) => id);
      const unlocated = [...jobs].filter(([, customer]) => WITHOUT_COORDINATES.has(customer)).map(([id]) => id);
      const laneOf = new Map(
        await page.locator(".lane-row .job").evaluateAll((cards) =>
          (cards as HTMLElement[]).map((c) => [c.dataset.booking!, c.closest<HTMLElement>(".lane-row")!.dataset.provider!] as const),
        ),
      );
      await view(page, "Map");
      const map = page.getByTestId("day-map");
      await map.waitFor();
      const points = await map.locator("svg .map-point").evaluateAll((gs) => (gs as SVGGElement[]).map((g) => [g.dataset.booking!, g.dataset.provider ?? null] as const));
      expect(points.map(([id]) => id).sort()).toEqual([...located].sort());
      for (const [id, provider] of points) expect(provider).toBe(laneOf.get(id) ?? null);
      // One route per provider with a located job, drawn through as many points as they have jobs.
      const providersWithPoints = new Set(points.map(([, p]) => p).filter((p) => p !== null));
      const routes = await map.locator("svg .map-route").evaluateAll((ls) => (ls as SVGPolylineElement[]).map((l) => [l.dataset.provider!, l.points.length] as const));
      expect(new Set(routes.map(([p]) => p))).toEqual(providersWithPoints);
      for (const [p, n] of routes) expect(n).toBe(points.filter(([, q]) => q === p).length);
      // Inside the drawing.
      const svg = (await map.locator("svg").boundingBox())!;
      for (const box of await map.locator("svg .map-point circle").evaluateAll((cs) => cs.map((c) => c.getBoundingClientRect().toJSON() as Box))) {
        expect(box.x).toBeGreaterThanOrEqual(svg.x);
        expect(box.x + box.width).toBeLessThanOrEqual(svg.x + svg.width + 0.5);
        expect(box.y).toBeGreaterThanOrEqual(svg.y);
        expect(box.y + box.height).toBeLessThanOrEqual(svg.y + svg.height + 0.5);
      }
      const listed = await map.locator('[data-testid="no-coordinates"] li').evaluateAll((lis) => (lis as HTMLElement[]).map((li) => li.dataset.booking!));
      expect(listed.sort()).toEqual([...unlocated].sort());
      if (located.length > 0 && unlocated.length > 0) {
        checked = true;
        expect(await axe(page, "map (1,440 px)")).toEqual([]);
        await screenshot(page, "board-05-map-1440");
      } else {
        await view(page, "Day");
        const date = await dayInput.inputValue();
        await page.getByRole("button", { name: "Next day" }).click();
        await expect.poll(() => dayInput.inputValue()).not.toBe(date);
      }
    }
    expect(checked, "a day with jobs with and without coordinates").toBe(true);
    // No tile server is configured in the tests: nothing is fetched from the network.
    expect(await page.locator("svg image").count()).toBe(0);
    await page.context().close();
  });

  test("the week view shows providers × 7 days with the day's jobs and opens a day", async () => {
    const page = await board("board-week", { width: 1440 });
    await page.locator(".lane-row").first().waitFor();
    const today = await page.getByLabel("Day", { exact: true }).inputValue();
    const providers = await page.locator(".lane-row").count();
    const laneJobs = await page.locator(".lane-row .job").count();
    await view(page, "Week");
    const week = page.getByTestId("week");
    await week.waitFor();
    expect(await week.locator("thead th").count()).toBe(8);
    expect(await week.locator("tbody tr[data-provider]").count()).toBe(providers);
    const todays = await week.locator(`tbody tr[data-provider] td[data-date="${today}"]`).evaluateAll((tds) => (tds as HTMLElement[]).reduce((n, td) => n + Number(td.dataset.jobs), 0));
    expect(todays).toBe(laneJobs);
    expect(await axe(page, "week (1,440 px)")).toEqual([]);
    await screenshot(page, "board-06-week-1440");
    // Another day of the week opens on the day view, and the address names it.
    const dates = await week.locator("thead th button[data-date]").evaluateAll((bs) => (bs as HTMLElement[]).map((b) => b.dataset.date!));
    const target = dates.filter((d) => d !== today)[3];
    const cell = week.locator(`tbody tr[data-provider] td[data-date="${target}"]`).first();
    const expected = Number(await cell.getAttribute("data-jobs"));
    const provider = (await cell.locator("xpath=..").getAttribute("data-provider"))!;
    await cell.getByRole("button").click();
    await page.locator(".lane-row").first().waitFor();
    expect(await page.getByLabel("Day", { exact: true }).inputValue()).toBe(target);
    expect(new URL(page.url()).searchParams.get("date")).toBe(target);
    await expect.poll(() => page.locator(`.lane-row[data-provider="${provider}"] .job`).count()).toBe(expected);
    await page.context().close();
  });

  test("the queue's filters (zone, service, time of day) and the search across the day narrow what is shown", async () => {
    const page = await board("board-queue", { width: 1440 });
    const dayInput = page.getByLabel("Day", { exact: true });
    // Tomorrow's jobs, three of them sent back to the queue through their Move… menus.
    await page.getByRole("button", { name: "Next day" }).click();
    await page.locator(".lane-row .job").first().waitFor();
    const date = await dayInput.inputValue();
    const queue = page.getByTestId("unassigned");
    const start = await queue.locator(".job").count();
    for (let i = 0; i < 3; i++) {
      const job = page.locator(".lane-row .job", { has: page.getByRole("button", { name: /^Move… / }) }).first();
      const id = (await job.getAttribute("data-booking"))!;
      await job.getByRole("button", { name: /^Move… / }).click();
      await job.getByRole("menuitem", { name: "Back to the queue" }).click();
      await queue.locator(`.job[data-booking="${id}"]`).waitFor({ timeout: 20_000 });
    }
    expect(await dayInput.inputValue()).toBe(date);
    const all = await queue.locator(".job").evaluateAll((cards) =>
      (cards as HTMLElement[]).map((c) => ({
        id: c.dataset.booking!,
        customer: c.dataset.customer!,
        zone: c.dataset.zone!,
        service: c.querySelector(".job-service")!.textContent!,
        address: c.querySelector(".job-address")?.textContent ?? "",
        hour: Number(/^(\d\d):/.exec(c.querySelector(".job-time")!.textContent!)![1]) % 12 + (/PM/.test(c.querySelector(".job-time")!.textContent!.split("–")[0]) ? 12 : 0),
      })),
    );
    expect(all.length).toBe(start + 3);
    const shown = () => queue.locator(".queue-list .job").evaluateAll((cards) => (cards as HTMLElement[]).map((c) => c.dataset.booking!).sort());
    const ids = (jobs: typeof all) => jobs.map((j) => j.id).sort();

    // Time of day.
    const time = queue.getByLabel("Time of day");
    await time.selectOption("morning");
    await expect.poll(shown).toEqual(ids(all.filter((j) => j.hour < 12)));
    await time.selectOption("afternoon");
    await expect.poll(shown).toEqual(ids(all.filter((j) => j.hour >= 12 && j.hour < 17)));
    await time.selectOption("");
    await expect.poll(shown).toEqual(ids(all));

    // Service: every option keeps only that service's jobs, and at least one option narrows.
    const service = queue.getByLabel("Service");
    const services = (await service.locator("option").allInnerTexts()).slice(1);
    let matched = false;
    for (const name of services) {
      await service.selectOption({ label: name });
      const expected = ids(all.filter((j) => j.service.includes(name)));
      await expect.poll(shown).toEqual(expected);
      if (expected.length > 0) matched = true;
    }
    await service.selectOption("");
    // Which options narrow depends on the day's demo jobs; at least one must match a job.
    expect(matched).toBe(true);

    // Zone.
    const zone = queue.getByLabel("Zone");
    for (const value of await zone.locator("option").evaluateAll((os) => (os as HTMLOptionElement[]).map((o) => o.value).filter(Boolean))) {
      await zone.selectOption(value);
      await expect.poll(shown).toEqual(ids(all.filter((j) => j.zone === value)));
    }
    await zone.selectOption("");

    // Search: by customer, then by a word of an address; the matches list covers the whole day.
    const search = queue.getByLabel("Search today's jobs");
    const someone = all[0];
    await search.fill(someone.customer.split(" ")[1].toLowerCase());
    await expect.poll(shown).toEqual(ids(all.filter((j) => j.customer.toLowerCase().includes(someone.customer.split(" ")[1].toLowerCase()))));
    const dayMatches = await page.locator(".job").evaluateAll(
      (cards, word) => (cards as HTMLElement[]).filter((c) => c.textContent!.toLowerCase().includes(word)).map((c) => c.dataset.booking!).sort(),
      someone.customer.split(" ")[1].toLowerCase(),
    );
    await expect
      .poll(() => page.getByTestId("search-results").locator("li").evaluateAll((lis) => (lis as HTMLElement[]).map((li) => li.dataset.booking!).sort()))
      .toEqual(dayMatches);
    const word = someone.address.split(/[ ,]+/).find((w) => w.length > 3 && /[a-z]/i.test(w))!;
    await search.fill(word);
    await expect.poll(shown).toEqual(ids(all.filter((j) => j.address.toLowerCase().includes(word.toLowerCase()))));
    await search.fill("no such customer anywhere");
    await queue.getByText("No unassigned job matches these filters.").waitFor();
    await page.getByTestId("search-results").getByText("No job today matches").waitFor();
    expect(await axe(page, "queue with filters and search")).toEqual([]);
    await screenshot(page, "board-07-queue-filters");
    await page.context().close();
  });

  test("nothing on the board threw", () => {
    expect(problems.filter((line) => /pageerror/.test(line))).toEqual([]);
  });
});
