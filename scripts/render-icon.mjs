// Renders media/icon.png (the 128×128 Marketplace icon vsce needs) from the activity-bar SVG, with headless
// Debian chromium. Run by hand when the icon changes: `node scripts/render-icon.mjs`.
import fs from 'node:fs';
import { chromium } from 'playwright-core';

const svg = fs.readFileSync(new URL('../media/iommu-lens.svg', import.meta.url), 'utf8')
  .replace('stroke="#c5c5c5"', 'stroke="#e8f1ff"');
const html = `<html><body style="margin:0;background:transparent">
<div style="width:128px;height:128px;border-radius:24px;background:linear-gradient(135deg,#1f4e8c,#0f2747);display:flex;align-items:center;justify-content:center">
${svg.replace('width="24" height="24"', 'width="100" height="100"')}</div></body></html>`;
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'] });
const page = await browser.newPage({ viewport: { width: 128, height: 128 } });
await page.setContent(html);
await page.screenshot({ path: new URL('../media/icon.png', import.meta.url).pathname, omitBackground: true });
await browser.close();
console.log('media/icon.png written');
