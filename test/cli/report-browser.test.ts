/**
 * report.html in a real browser: headless Chromium renders the page of a real run (test/fixtures/report)
 * and screenshots it, and the PNG is decoded to check that a page was drawn — not a blank or an error
 * page — and that the chart's bars are there in their verdicts' colours.
 *
 * Needs Chromium (Debian: `apt-get update && apt-get install -y chromium`). Skipped without it on a
 * workstation; in CI (`CI` set) a missing Chromium fails the test.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { kindsPresent, mergeVerdictSeries, VERDICT_STYLE } from '../../cli/report/chart.ts';
import { renderReportHtml } from '../../cli/report/html.ts';
import { coloursIn, decodePng, type Pixels } from './png.ts';
import { defaultRun, estateOf } from './report-fixture.ts';

const INSTALL = 'apt-get update && apt-get install -y chromium';
const CHROMIUM = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find(
  (path): path is string => path !== undefined && path !== '' && existsSync(path),
);
/** Where the screenshots are left for a person to look at (overwritten on every run). */
const SCREENSHOT_DIR = join(tmpdir(), 'vecguard-report-browser');

const WIDTH = 1280;

/** Render `html` in headless Chromium and return the screenshot's file. */
async function screenshot(html: string, name: string, height: number): Promise<string> {
  if (!CHROMIUM) throw new Error(`Chromium is missing: add \`${INSTALL}\` to .ci/run (or set CHROMIUM_PATH)`);
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const page = join(SCREENSHOT_DIR, `${name}.html`);
  const png = join(SCREENSHOT_DIR, `${name}.png`);
  writeFileSync(page, html);
  rmSync(png, { force: true });
  const profile = mkdtempSync(join(tmpdir(), 'vecguard-chromium-'));
  try {
    await promisify(execFile)(
      CHROMIUM,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        // Belt and braces with the page's CSP: no name resolves, so nothing could be fetched anyway.
        '--host-resolver-rules=MAP * ~NOTFOUND',
        '--hide-scrollbars',
        '--force-device-scale-factor=1',
        `--user-data-dir=${profile}`,
        `--window-size=${WIDTH},${height}`,
        `--screenshot=${png}`,
        pathToFileURL(page).href,
      ],
      { timeout: 60_000 },
    );
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
  return png;
}

const rgb = (hex: string) => Number.parseInt(hex.slice(1), 16);

/** Is there a `size`×`size` square of exactly this colour? Chart bars are; badges and text are not. */
function hasSolidSquare(p: Pixels, colour: number, size: number): boolean {
  const at = (x: number, y: number) => {
    const i = (y * p.width + x) * 4;
    return ((p.rgba[i] ?? 0) << 16) | ((p.rgba[i + 1] ?? 0) << 8) | (p.rgba[i + 2] ?? 0);
  };
  for (let y = 0; y + size <= p.height; y += size / 2)
    for (let x = 0; x + size <= p.width; x += size / 2) {
      if (at(x, y) !== colour) continue;
      let solid = true;
      for (let dy = 0; solid && dy < size; dy++)
        for (let dx = 0; solid && dx < size; dx++) solid = at(x + dx, y + dy) === colour;
      if (solid) return true;
    }
  return false;
}

// In CI the tests run even without Chromium, and fail naming the install command (see `screenshot`).
describe.skipIf(!CHROMIUM && !process.env.CI)('report.html in headless Chromium', () => {
  it('draws the page of a real run, with a bar of every verdict the chart shows', async () => {
    const run = defaultRun();
    const file = await screenshot(renderReportHtml(run), 'report', 2400);

    const bytes = statSync(file).size;
    // A blank 1280×2400 page compresses to a few kilobytes; a drawn one is far larger.
    expect(bytes, file).toBeGreaterThan(50_000);
    const png = decodePng(readFileSync(file));
    expect([png.width, png.height]).toEqual([WIDTH, 2400]);
    expect(coloursIn(png, 0, 0, png.width, png.height).size, 'distinct colours').toBeGreaterThan(200);
    // The header band is drawn (dark), not left white.
    expect(coloursIn(png, 0, 0, WIDTH, 20)).toEqual(new Set([rgb('#0d1117')]));

    const kinds = kindsPresent(mergeVerdictSeries(run.summaries.map((s) => s.verdictsPerIteration)));
    expect(kinds.length).toBeGreaterThanOrEqual(5);
    for (const kind of kinds)
      expect(hasSolidSquare(png, rgb(VERDICT_STYLE[kind].colour), 24), `a ${kind} bar`).toBe(true);
  });

  it('draws 1,000 VPCs, chart first and readable', async () => {
    const big = estateOf(1000);
    const file = await screenshot(renderReportHtml(big), 'report-1000', 1400);
    const png = decodePng(readFileSync(file));
    expect(coloursIn(png, 0, 0, png.width, png.height).size).toBeGreaterThan(200);
    for (const kind of kindsPresent(big.summaries[0]?.verdictsPerIteration ?? []))
      expect(hasSolidSquare(png, rgb(VERDICT_STYLE[kind].colour), 24), `a ${kind} bar`).toBe(true);
  });

  it('draws an organisation sweep, 4 accounts × Regions of 1,000 VPCs each, chart first', async () => {
    const big = estateOf(1000);
    const [one] = big.summaries;
    if (!one) throw new Error('no summary');
    const summaries = ['200000000001', '200000000002'].flatMap((accountId) =>
      ['us-east-1', 'eu-west-1'].map((region) => ({ ...one, accountId, region })),
    );
    const html = renderReportHtml({ ...big, summaries });
    expect(html.match(/<tr data-vpc-id=/g)).toHaveLength(4000);
    const file = await screenshot(html, 'report-4x1000', 1400);
    const png = decodePng(readFileSync(file));
    expect(coloursIn(png, 0, 0, png.width, png.height).size).toBeGreaterThan(200);
    for (const kind of kindsPresent(mergeVerdictSeries(summaries.map((s) => s.verdictsPerIteration))))
      expect(hasSolidSquare(png, rgb(VERDICT_STYLE[kind].colour), 24), `a ${kind} bar`).toBe(true);
  });
});
