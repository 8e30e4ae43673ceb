import { createHash } from 'node:crypto';
import { Script } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { WEB_PAGE_HEADERS, WEB_PAGE_HTML } from '../../../src/http/web-page.js';
import { PAGE_SCRIPT } from '../../../src/http/web-page-script.js';

const csp = WEB_PAGE_HEADERS['content-security-policy'] as string;
const directive = (name: string) =>
  csp
    .split('; ')
    .find((d) => d.startsWith(`${name} `))
    ?.slice(name.length + 1);
const hash = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;
const inline = (tag: string) => new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(WEB_PAGE_HTML)?.[1] ?? '';

describe('the web view page', () => {
  it('has a script that parses (the browser test is the slow one)', () => {
    expect(() => new Script(PAGE_SCRIPT, { filename: 'web-page-script.js' })).not.toThrow();
  });

  it('lets the browser run exactly its own inline style and script, and ask only its own origin', () => {
    expect(inline('script')).toBe(PAGE_SCRIPT);
    expect(directive('script-src')).toBe(hash(PAGE_SCRIPT));
    expect(directive('style-src')).toBe(hash(inline('style')));
    expect(directive('default-src')).toBe("'none'");
    expect(directive('connect-src')).toBe("'self'");
    expect(directive('form-action')).toBe("'none'");
  });

  it('loads nothing from elsewhere and has nothing that could send a change', () => {
    // The SVG namespace is a name, not a fetch.
    const urls = WEB_PAGE_HTML.match(/\bhttps?:\/\/[^\s'"<>)]+/g) ?? [];
    expect(urls).toEqual(['http://www.w3.org/2000/svg']);
    expect(WEB_PAGE_HTML).not.toMatch(/<form|<iframe|<img|<link(?![^>]*href="data:)/i);
    expect(PAGE_SCRIPT).not.toMatch(/method\s*:|XMLHttpRequest|sendBeacon|WebSocket/);
  });

  it('never parses data as markup', () => {
    expect(PAGE_SCRIPT).not.toMatch(
      /innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/,
    );
  });
});
