/* The web page's script (server/web/index.html, docs/SERVICE.md "The web page"): sign in with
 * an API token, search by fields, an object's verdict, evidence timeline, versions and audit
 * trail, downloads, and checking a file against an evidence record. Plain JavaScript, no
 * framework, nothing fetched from elsewhere.
 *
 * INVARIANTS
 * - The token is kept in sessionStorage (this tab only) and sent only as
 *   "Authorization: Bearer"; never in a URL, never in the page.
 * - Whatever comes from the store (names, metadata, TSA names, reasons) is put in the page
 *   as text (textContent, createTextNode, SVG text), never as HTML.
 * - Every failure is shown to the person in words (the status's meaning and the service's
 *   own message); the page is never left blank. */
'use strict';

const API = '/api/v1/';
const CHECK_MAX = 20 * 1024 * 1024; /* larger documents: check with kura verify */

const WORDS = {
  en: {
    title: 'kura archive', language: 'Language', signOut: 'Sign out', signInTitle: 'Sign in',
    signInHelp: 'Sign in with the API token an administrator made for you (kura user add). It is kept only in this browser tab, until you sign out or close it.',
    token: 'API token', signIn: 'Sign in', searchTitle: 'Search by fields',
    searchHelp: 'Every condition must hold. Dates as 2026-03-31, amounts as 120000 or 100 USD.',
    addCondition: 'Add a condition', remove: 'Remove', search: 'Search', field: 'Field', value: 'Value',
    isEmpty: 'is empty', name: 'Name', id: 'ID', date: 'Date', fields: 'Fields', back: 'Back to the search',
    downloads: 'Downloads', dlDocument: 'Document', dlEvidence: 'Evidence record (RFC 4998)', dlPackage: 'Package',
    dlReportHtml: 'Report (HTML)', dlReportPdf: 'Report (PDF)', timeline: 'Evidence timeline', chain: 'Chain',
    kind: 'Kind', when: 'Time', tsa: 'Time-stamping authority', algorithm: 'Algorithm', result: 'Result',
    versions: 'Versions', trail: 'Audit trail', action: 'Action', by: 'By', details: 'Details',
    checkTitle: 'Check a file against an evidence record',
    checkHelp: 'Someone sent you a file and its evidence record: choose both to check that the file is the one time-stamped. Nothing is stored.',
    checkData: 'File', checkEr: 'Evidence record (.ers)', check: 'Check',
    signedInAs: 'Signed in as {0}', results: '{0} found', resultsCut: '{0} found; the first {1} are shown',
    noResults: 'Nothing found.', needCondition: 'Give at least one condition: a field and a value.',
    size: 'Size', ingested: 'Stored', sha256: 'SHA-256', submittedBy: 'Submitted by', metadata: 'Metadata',
    verdictValid: 'Verdict: valid. The document is the one time-stamped, and every time-stamp checks out.',
    verdictInvalid: 'Verdict: {0}. The document or its evidence does not check out: {1}',
    verdictUnsealed: 'Not sealed yet: its time-stamp comes with the next sealing round.',
    verdictBig: 'Too large to check in the browser: check it with kura verify.',
    verdictChecking: 'Checking the evidence…',
    verdictError: 'The evidence could not be checked: {0}',
    checkValid: 'valid: this file is the one the evidence record time-stamped, and every time-stamp checks out.',
    checkInvalid: 'invalid: this file and this evidence record do not belong together, or the record does not check out ({0}).',
    checking: 'Checking…',
    kindIngest: 'stored', kindStamp: 'first time-stamp', kindTsRenewal: 'time-stamp renewal',
    kindHashRenewal: 'hash-tree renewal', kindDue: 'next renewal due', kindNow: 'today',
    nextDue: 'Next renewal due: {0}.', noStamps: 'No time-stamp yet.', none: '(none)',
    current: 'current', err401: 'The token is wrong or has expired: sign in again with a valid token ({0}).',
    err403: 'Your role may not do this: ask an administrator ({0}).', err404: 'Not found, or not in your collections ({0}).',
    err413: 'Too large for the service ({0}).', errOther: 'The service answered {0}: {1}',
    errNetwork: 'The service cannot be reached: check the network or that kura serve is running ({0}).',
    errFile: 'The file could not be read ({0}).', downloaded: 'Saved {0}.'
  },
  ja: {
    title: 'kura 文書保存庫', language: '言語', signOut: 'サインアウト', signInTitle: 'サインイン',
    signInHelp: '管理者が発行した API トークン（kura user add）でサインインしてください。トークンはこのタブの中だけに保持され、サインアウトするかタブを閉じると消えます。',
    token: 'API トークン', signIn: 'サインイン', searchTitle: '項目で検索',
    searchHelp: 'すべての条件を満たすものを探します。日付は 2026-03-31、金額は 120000 や 100 USD のように入力します。',
    addCondition: '条件を追加', remove: '削除', search: '検索', field: '項目', value: '値', isEmpty: '空である',
    name: '名前', id: 'ID', date: '日付', fields: '項目', back: '検索に戻る', downloads: 'ダウンロード',
    dlDocument: '文書', dlEvidence: '証拠記録（RFC 4998）', dlPackage: 'パッケージ', dlReportHtml: '報告書（HTML）',
    dlReportPdf: '報告書（PDF）', timeline: '証拠のタイムライン', chain: 'チェーン', kind: '種類', when: '日時',
    tsa: '時刻認証局', algorithm: 'アルゴリズム', result: '結果', versions: '版', trail: '監査証跡',
    action: '操作', by: '実行者', details: '詳細', checkTitle: 'ファイルを証拠記録と照合',
    checkHelp: '送られてきたファイルとその証拠記録を選ぶと、そのファイルがタイムスタンプされたものかを確かめます。何も保存されません。',
    checkData: 'ファイル', checkEr: '証拠記録（.ers）', check: '照合',
    signedInAs: '{0} としてサインイン中', results: '{0} 件', resultsCut: '{0} 件（最初の {1} 件を表示）',
    noResults: '見つかりませんでした。', needCondition: '条件を一つ以上入力してください（項目と値）。',
    size: 'サイズ', ingested: '保存日時', sha256: 'SHA-256', submittedBy: '登録者', metadata: 'メタデータ',
    verdictValid: '判定：有効。文書はタイムスタンプされたものと同一で、すべてのタイムスタンプが検証できました。',
    verdictInvalid: '判定：{0}。文書またはその証拠が検証できません：{1}',
    verdictUnsealed: 'まだ封印されていません。次の封印でタイムスタンプが付きます。',
    verdictBig: 'ブラウザで照合するには大きすぎます。kura verify で検証してください。',
    verdictChecking: '証拠を検証しています…',
    verdictError: '証拠を検証できませんでした：{0}',
    checkValid: '有効：このファイルは証拠記録がタイムスタンプしたものと同一で、すべてのタイムスタンプが検証できました。',
    checkInvalid: '無効：このファイルとこの証拠記録は対応していないか、記録が検証できません（{0}）。',
    checking: '照合しています…',
    kindIngest: '保存', kindStamp: '最初のタイムスタンプ', kindTsRenewal: 'タイムスタンプの更新',
    kindHashRenewal: 'ハッシュツリーの更新', kindDue: '次の更新期限', kindNow: '今日',
    nextDue: '次の更新期限：{0}', noStamps: 'タイムスタンプはまだありません。', none: '（なし）', current: '現行',
    err401: 'トークンが正しくないか、期限切れです。正しいトークンでサインインし直してください（{0}）。',
    err403: 'あなたの役割ではこの操作はできません。管理者に相談してください（{0}）。',
    err404: '見つからないか、あなたの担当範囲外です（{0}）。', err413: 'サービスには大きすぎます（{0}）。',
    errOther: 'サービスの応答 {0}：{1}',
    errNetwork: 'サービスに接続できません。ネットワークと kura serve の稼働を確認してください（{0}）。',
    errFile: 'ファイルを読めませんでした（{0}）。', downloaded: '{0} を保存しました。'
  }
};

const $ = (id) => document.getElementById(id);
let lang = 'en';
let redraw = null; /* draws the shown object again in the new language */

function t(key, ...args) {
  const s = (WORDS[lang] && WORDS[lang][key]) || WORDS.en[key] || key;
  return s.replace(/\{(\d)\}/g, (m, i) => String(args[Number(i)]));
}

/* Shows every word in language l; a person's choice is kept for the tab (remember). */
function setLanguage(l, remember) {
  lang = WORDS[l] ? l : 'en';
  if (remember)
    sessionStorage.setItem('kura.lang', lang);
  document.documentElement.lang = lang;
  $('lang').value = lang;
  for (const e of document.querySelectorAll('[data-t]'))
    e.textContent = t(e.dataset.t);
  for (const e of document.querySelectorAll('[data-ph]'))
    e.placeholder = t(e.dataset.ph);
  const who = sessionStorage.getItem('kura.account');
  $('account').textContent = who ? t('signedInAs', who) : '';
  if (redraw)
    redraw();
}

/* An element with text children (strings become text nodes, never HTML). */
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {}))
    e.setAttribute(k, v);
  for (const c of children)
    e.append(c instanceof Node ? c : document.createTextNode(c == null ? '' : String(c)));
  return e;
}

function fill(tbody, rows) {
  tbody.replaceChildren(...rows.map((cells) => el('tr', {}, ...cells.map((c) => el('td', {}, c)))));
}

/* ------------------------------------------------------------------ the API */

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function errorText(e) {
  if (!(e instanceof ApiError))
    return t('errNetwork', e.message);
  const k = { 401: 'err401', 403: 'err403', 404: 'err404', 413: 'err413' }[e.status];
  return k ? t(k, e.message) : t('errOther', e.status, e.message);
}

function showError(e) {
  $('message').textContent = typeof e === 'string' ? e : errorText(e);
  $('message').hidden = false;
  if (e instanceof ApiError && e.status === 401)
    signOut(true);
}

function clearError() {
  $('message').hidden = true;
  $('message').textContent = '';
}

async function api(path, options) {
  const o = Object.assign({ headers: {} }, options || {});
  o.headers.Authorization = 'Bearer ' + (sessionStorage.getItem('kura.token') || '');
  let r;
  try {
    r = await fetch(API + path, o);
  } catch (e) {
    throw new Error(e.message || String(e));
  }
  if (!r.ok) {
    let msg = r.statusText;
    try {
      msg = (await r.json()).error || msg;
    } catch (e) { /* not JSON: the status text */ }
    throw new ApiError(r.status, msg);
  }
  return r;
}

const apiJson = async (path, options) => (await api(path, options)).json();
const post = (path, body) =>
  apiJson(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

function base64(buffer) {
  const b = new Uint8Array(buffer);
  let s = '';
  for (let i = 0; i < b.length; i += 0x8000)
    s += String.fromCharCode.apply(null, b.subarray(i, i + 0x8000));
  return btoa(s);
}

/* ------------------------------------------------------------------ signing in */

async function signIn(token) {
  if (!/^[\x21-\x7e]+$/.test(token)) /* a header cannot carry it: not a token kura made */
    return showError(t('err401', 'kura_…'));
  sessionStorage.setItem('kura.token', token);
  try {
    const info = await apiJson('RetrieveInfo');
    sessionStorage.setItem('kura.account', info.account);
    const names = $('field-names');
    names.replaceChildren(...(info.fields || []).map((f) => el('option', { value: f.name || f })));
    clearError();
    show();
  } catch (e) {
    sessionStorage.removeItem('kura.token');
    showError(e);
  }
}

function signOut(keepMessage) {
  sessionStorage.removeItem('kura.token');
  sessionStorage.removeItem('kura.account');
  $('token').value = '';
  if (!keepMessage)
    clearError();
  if (location.hash)
    history.replaceState(null, '', location.pathname);
  show();
}

/* Which part is shown: the sign-in form, or search and check with an object's page. */
function show() {
  const signedIn = !!sessionStorage.getItem('kura.token');
  $('signin').hidden = signedIn;
  $('signout').hidden = !signedIn;
  $('search').hidden = !signedIn;
  $('check').hidden = !signedIn;
  const id = signedIn && /^#po\/([0-9A-Z]{26})$/.exec(location.hash);
  $('object').hidden = !id;
  redraw = null;
  setLanguage(lang);
  if (id)
    openObject(id[1]);
}

/* ------------------------------------------------------------------ search */

const OPS = ['=', '!=', '<', '<=', '>', '>=', '^=', 'is empty'];

function addCondition() {
  const op = el('select', { 'aria-label': 'operator' }, ...OPS.map((o) => el('option', { value: o }, o)));
  const field = el('input', { list: 'field-names', 'data-ph': 'field', 'aria-label': 'field', class: 'field' });
  const value = el('input', { 'data-ph': 'value', 'aria-label': 'value', class: 'value' });
  const row = el('div', { class: 'condition' }, field, op, value);
  const remove = el('button', { type: 'button', 'data-t': 'remove' });
  remove.addEventListener('click', () => row.remove());
  op.addEventListener('change', () => { value.hidden = op.value === 'is empty'; });
  row.append(remove);
  $('conditions').append(row);
  setLanguage(lang);
}

function conditions() {
  const where = [];
  for (const row of document.querySelectorAll('.condition')) {
    const f = row.querySelector('.field').value.trim(), op = row.querySelector('select').value;
    const v = row.querySelector('.value').value.trim();
    if (f && op === 'is empty')
      where.push(f + ' is empty');
    else if (f && v)
      where.push(f + ' ' + op + ' ' + v);
  }
  return where;
}

function metaText(meta) {
  return Object.entries(meta || {}).map(([k, v]) => k + ' = ' + v).join('; ');
}

/* The field list offers the metadata keys of the objects seen, besides RetrieveInfo's fields. */
function knownFields(objects) {
  const list = $('field-names'), have = new Set([...list.options].map((o) => o.value));
  for (const o of objects)
    for (const k of Object.keys(o.meta || {}))
      if (!have.has(k)) {
        have.add(k);
        list.append(el('option', { value: k }));
      }
}

async function search(ev) {
  ev.preventDefault();
  const where = conditions();
  if (!where.length)
    return showError(t('needCondition'));
  const MAX = 200;
  try {
    const ids = (await post('Search', { where })).poId;
    const shown = ids.slice(0, MAX);
    const objects = await Promise.all(shown.map((id) => apiJson('po/' + id + '/info')));
    clearError();
    knownFields(objects);
    $('result-count').textContent = !ids.length ? t('noResults')
      : ids.length > MAX ? t('resultsCut', ids.length, MAX) : t('results', ids.length);
    $('results').hidden = !ids.length;
    fill($('results').tBodies[0], objects.map((o) => [el('a', { href: '#po/' + o.id }, o.name),
      el('span', { class: 'id' }, o.id), (o.ingested || '').slice(0, 10), metaText(o.meta)]));
  } catch (e) {
    showError(e);
  }
}

/* ------------------------------------------------------------------ an object */

function stampKind(chain, position) {
  return position > 0 ? 'kindTsRenewal' : chain > 0 ? 'kindHashRenewal' : 'kindStamp';
}

/* The evidence timeline as SVG: row 0 the object (stored, next renewal due), a row per
 * chain with a bar from its first time-stamp and a mark at each. */
function drawTimeline(info, report) {
  const NS = 'http://www.w3.org/2000/svg', W = 600, LEFT = 110, RIGHT = 580, ROW = 34;
  const marks = [{ t: info.ingested, kind: 'kindIngest', cls: 'ingest', row: 0 }];
  const chains = (report && report.chains) || [];
  chains.forEach((c, i) => (c.ats || []).forEach((a, j) =>
    marks.push({ t: a.genTime, kind: stampKind(i, j), cls: ['stamp', 'ts-renewal', 'hash-renewal'][j > 0 ? 1 : i > 0 ? 2 : 0], row: i + 1 })));
  const due = info.next_renewal && info.next_renewal.due;
  if (due)
    marks.push({ t: due, kind: 'kindDue', cls: 'due', row: 0 });
  const times = marks.map((m) => Date.parse(m.t)).filter((x) => !isNaN(x));
  const lo = Math.min(...times), hi = Math.max(...times, lo + 86400000);
  const x = (s) => LEFT + (Date.parse(s) - lo) / (hi - lo) * (RIGHT - LEFT);
  const H = ROW * (chains.length + 1) + 30;
  const svg = document.createElementNS(NS, 'svg');
  const add = (tag, attrs, text) => {
    const e = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs))
      e.setAttribute(k, v);
    if (text != null)
      e.textContent = text;
    svg.append(e);
    return e;
  };
  svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', t('timeline'));
  add('line', { x1: LEFT, x2: RIGHT, y1: H - 22, y2: H - 22, class: 'axis' });
  add('text', { x: LEFT, y: H - 8 }, new Date(lo).toISOString().slice(0, 10));
  add('text', { x: RIGHT, y: H - 8, 'text-anchor': 'end' }, new Date(hi).toISOString().slice(0, 10));
  add('text', { x: 4, y: 20 }, t('dlDocument'));
  chains.forEach((c, i) => {
    const y = ROW * (i + 1) + 16, first = c.ats && c.ats[0] && c.ats[0].genTime;
    add('text', { x: 4, y: y + 4 }, t('chain') + ' ' + (i + 1) + ' ' + (c.hash || ''));
    if (first) {
      const next = chains[i + 1] && chains[i + 1].ats && chains[i + 1].ats[0] ? chains[i + 1].ats[0].genTime : null;
      add('line', { x1: x(first), x2: next ? x(next) : RIGHT, y1: y, y2: y, class: 'bar' });
    }
  });
  for (const m of marks) {
    if (isNaN(Date.parse(m.t)))
      continue;
    const y = ROW * m.row + 16;
    const c = add('circle', { cx: x(m.t), cy: y, r: 5, class: m.cls });
    const title = document.createElementNS(NS, 'title');
    title.textContent = t(m.kind) + ' ' + m.t;
    c.append(title);
    const at = x(m.t), anchor = at < LEFT + 30 ? 'start' : at > RIGHT - 30 ? 'end' : 'middle';
    add('text', { x: at, y: y + 16, 'text-anchor': anchor }, m.t.slice(0, 10));
  }
  $('timeline').replaceChildren(svg);
}

function stampRows(report) {
  const rows = [];
  ((report && report.chains) || []).forEach((c, i) => (c.ats || []).forEach((a, j) =>
    rows.push([String(i + 1), t(stampKind(i, j)), a.genTime || '', a.tsa || '',
      [c.hash, a.signature_algorithm].filter(Boolean).join(', '), [a.integrity, a.trust].filter(Boolean).join(' / ')])));
  return rows;
}

function trailDetails(r) {
  const skip = ['id', 'seq', 'prev', 'time', 'actor', 'action', 'system_user'];
  return Object.entries(r).filter(([k]) => !skip.includes(k))
    .map(([k, v]) => k + ': ' + (typeof v === 'string' ? v : Array.isArray(v) && v.every((x) => typeof x === 'string')
      ? v.join(', ') : JSON.stringify(v))).join('; ');
}

/* The verdict: the document and its evidence record checked by the service (ValidateEvidence). */
async function verdictOf(info) {
  if (info.size > CHECK_MAX)
    return { key: 'big' };
  let er;
  try {
    er = await (await api('po/' + info.id + '/evidence')).arrayBuffer();
  } catch (e) {
    if (e instanceof ApiError && e.status === 404)
      return { key: 'unsealed' };
    throw e;
  }
  const data = await (await api('po/' + info.id)).arrayBuffer();
  return { key: 'report', report: await post('ValidateEvidence', { data: base64(data), evidenceRecord: base64(er) }) };
}

function drawVerdict(v) {
  const p = $('verdict');
  if (!v) {
    p.className = 'verdict pending';
    p.textContent = t('verdictChecking');
  } else if (v.key === 'error') {
    p.className = 'verdict pending';
    p.textContent = t('verdictError', errorText(v.error));
  } else if (v.key !== 'report') {
    p.className = 'verdict pending';
    p.textContent = t(v.key === 'big' ? 'verdictBig' : 'verdictUnsealed');
  } else if (v.report.verdict === 'valid') {
    p.className = 'verdict valid';
    p.textContent = t('verdictValid');
  } else {
    p.className = 'verdict invalid';
    p.textContent = t('verdictInvalid', v.report.verdict, v.report.reason || v.report.integrity || '');
  }
}

function drawObject(info, trace, verdict) {
  $('obj-name').textContent = info.name;
  const facts = [[t('id'), info.id], [t('size'), info.size + ' B'], [t('ingested'), info.ingested],
    [t('sha256'), info.sha256], [t('submittedBy'), info.actor], [t('metadata'), metaText(info.meta) || t('none')]];
  $('obj-facts').replaceChildren(...facts.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
  drawVerdict(verdict);
  const report = verdict && verdict.report;
  drawTimeline(info, report);
  const rows = stampRows(report);
  fill($('stamps').tBodies[0], rows.length ? rows : [[t('noStamps'), '', '', '', '', '']]);
  $('next-due').textContent = info.next_renewal && info.next_renewal.due ? t('nextDue', info.next_renewal.due) : '';
  fill($('versions').tBodies[0], (trace.versions || []).map((v) => [
    el('a', { href: '#po/' + v.id, class: 'id' }, v.id + (v.id === trace.current ? ' (' + t('current') + ')' : '')),
    v.name, v.ingested, v.actor, metaText(v.meta)]));
  const trail = (trace.trail || []).concat(trace.imported_trail || []);
  fill($('trail').tBodies[0], trail.length ? trail.map((r) => typeof r === 'string' ? ['', '', '', r]
    : [r.time, r.action, r.actor, trailDetails(r)]) : [[t('none'), '', '', '']]);
}

function setDownloads(info) {
  const base = API + 'po/' + info.id, leaf = String(info.name).split('/').pop() || info.id;
  const links = { 'dl-document': [base, leaf], 'dl-evidence': [base + '/evidence', leaf + '.ers'],
    'dl-package': [base + '/package', 'kura-' + info.id + '.tar.zst'],
    'dl-report-html': [base + '/report?format=html', info.id + '-report.html'],
    'dl-report-pdf': [base + '/report?format=pdf', info.id + '-report.pdf'] };
  for (const [id, [href, name]] of Object.entries(links)) {
    $(id).setAttribute('href', href);
    $(id).dataset.file = name;
  }
}

/* A download: fetched with the token, saved through a Blob (a plain link would carry no token). */
async function download(ev) {
  ev.preventDefault();
  const a = ev.currentTarget;
  try {
    const r = await api(a.getAttribute('href').slice(API.length));
    const cd = r.headers.get('Content-Disposition') || '';
    const utf8 = /filename\*=UTF-8''([^;]+)/i.exec(cd), plain = /filename="([^"]+)"/.exec(cd);
    const name = utf8 ? decodeURIComponent(utf8[1]) : plain ? plain[1] : a.dataset.file;
    const url = URL.createObjectURL(await r.blob());
    const save = el('a', { href: url, download: name });
    document.body.append(save);
    save.click();
    save.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
    clearError();
  } catch (e) {
    showError(e);
  }
}

async function openObject(id) {
  try {
    const [info, trace] = await Promise.all([apiJson('po/' + id + '/info'), apiJson('po/' + id + '/trace')]);
    setDownloads(info);
    redraw = () => drawObject(info, trace, null);
    drawObject(info, trace, null);
    $('object').scrollIntoView();
    let verdict;
    try {
      verdict = await verdictOf(info);
    } catch (e) {
      verdict = { key: 'error', error: e };
    }
    redraw = () => drawObject(info, trace, verdict);
    drawObject(info, trace, verdict);
  } catch (e) {
    showError(e);
  }
}

/* ------------------------------------------------------------------ checking a file */

async function checkFile(ev) {
  ev.preventDefault();
  const out = $('check-result');
  out.className = 'verdict pending';
  out.textContent = t('checking');
  let data, er;
  try {
    [data, er] = await Promise.all([$('check-data').files[0].arrayBuffer(), $('check-er').files[0].arrayBuffer()]);
  } catch (e) {
    out.textContent = '';
    return showError(t('errFile', e.message));
  }
  try {
    const r = await post('ValidateEvidence', { data: base64(data), evidenceRecord: base64(er) });
    const valid = r.verdict === 'valid';
    out.className = 'verdict ' + (valid ? 'valid' : 'invalid');
    out.dataset.verdict = r.verdict;
    out.textContent = valid ? t('checkValid') : t('checkInvalid', [r.verdict, r.integrity, r.reason].filter(Boolean).join(', '));
    clearError();
  } catch (e) {
    out.textContent = '';
    showError(e);
  }
}

/* ------------------------------------------------------------------ start */

document.addEventListener('DOMContentLoaded', () => {
  const saved = sessionStorage.getItem('kura.lang');
  lang = saved || ((navigator.language || 'en').toLowerCase().startsWith('ja') ? 'ja' : 'en');
  $('lang').addEventListener('change', () => setLanguage($('lang').value, true));
  $('signin-form').addEventListener('submit', (ev) => { ev.preventDefault(); signIn($('token').value.trim()); });
  $('signout').addEventListener('click', () => signOut(false));
  $('add-condition').addEventListener('click', addCondition);
  $('search-form').addEventListener('submit', search);
  $('check-form').addEventListener('submit', checkFile);
  $('back').addEventListener('click', (ev) => { ev.preventDefault(); history.pushState(null, '', location.pathname); show(); });
  for (const a of document.querySelectorAll('a.download'))
    a.addEventListener('click', download);
  window.addEventListener('hashchange', show);
  addCondition();
  show();
});
