#!/usr/bin/env node
// Turn man/epilot-action.1.md (a small Markdown dialect) into roff.
// Usage: node man/genman.mjs man/epilot-action.1.md > man/epilot-action.1
//
// The dialect: a first line "% TITLE SECTION DATE SOURCE MANUAL" (fields
// separated by " | "); "# NAME" starts a section and "## name" a subsection;
// a line starting with ` or * followed by a line starting ": " is an
// option definition; ``` fences an example block; blank lines separate
// paragraphs; `code` is bold and *word* italic inline.
import fs from 'node:fs';

const src = fs.readFileSync(process.argv[2], 'utf8').split('\n');

const escape = (s) => s.replace(/\\/g, '\\e').replace(/-/g, '\\-');
// Code spans first, their asterisks kept literal (webhook-*), so that two of
// them in one paragraph never read as one italic run.
const inline = (s) => escape(s)
  .split(/(`[^`]+`)/)
  .map((part) => (part.startsWith('`') && part.endsWith('`') && part.length > 1
    ? `\\fB${part.slice(1, -1)}\\fR`
    : part.replace(/\*([^*\s][^*]*)\*/g, '\\fI$1\\fR')))
  .join('');
// A roff line must not start with a control character.
const line = (s) => (/^[.']/.test(s) ? '\\&' + s : s);

const out = [];
const [title, section, date, source, manual] = src[0].replace(/^% /, '').split(' | ');
out.push(`.\\" Generated from ${process.argv[2].split('/').pop()} by man/genman.mjs; do not edit.`);
out.push(`.TH "${title}" "${section}" "${date}" "${source}" "${manual}"`);

let i = 1;
let para = [];
const flush = () => {
  if (para.length) out.push(...para.map((p) => line(inline(p))));
  para = [];
};
while (i < src.length) {
  const l = src[i];
  if (l.startsWith('```')) {
    flush();
    out.push('.PP', '.RS 4', '.nf');
    for (i++; i < src.length && !src[i].startsWith('```'); i++) out.push(line(escape(src[i])));
    out.push('.fi', '.RE');
    i++;
    continue;
  }
  if (l.startsWith('## ')) { flush(); out.push(`.SS "${l.slice(3)}"`); i++; continue; }
  if (l.startsWith('# ')) { flush(); out.push(`.SH "${l.slice(2)}"`); i++; continue; }
  if ((l.startsWith('`') || l.startsWith('*')) && (src[i + 1] ?? '').startsWith(': ')) {
    flush();
    out.push('.TP', line(inline(l)));
    para.push(src[i + 1].slice(2));
    for (i += 2; i < src.length && src[i].startsWith('  ') && src[i].trim(); i++) para.push(src[i].trim());
    flush();
    continue;
  }
  if (l.trim() === '') { flush(); out.push('.PP'); i++; continue; }
  para.push(l);
  i++;
}
flush();
// Collapse paragraph breaks that directly follow a heading or another break.
const result = [];
for (const l of out) {
  const prev = result[result.length - 1] ?? '';
  if (l === '.PP' && (prev === '.PP' || prev.startsWith('.SH') || prev.startsWith('.SS') || prev.startsWith('.TH'))) continue;
  result.push(l);
}
while (result[result.length - 1] === '.PP') result.pop();
// A break right before an option definition only adds space.
for (let k = result.length - 2; k >= 0; k--) if (result[k] === '.PP' && result[k + 1] === '.TP') result.splice(k, 1);
process.stdout.write(result.join('\n') + '\n');
