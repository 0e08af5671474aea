// A product archive as delivered (USGS's .tar, CRESDA's .tar.gz) given in place of its unpacked folder: the same
// metadata and bands are found, only those are taken out (into a temporary folder, gone afterwards), and the mask
// is the folder's byte for byte. Damaged archives, archives without a product and members whose paths leave the
// archive are refused or skipped, naming the archive. The archives are made by the system's GNU tar.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, linkSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { detect, type DetectSummary } from '../../src/detect/detect.js';
import { openRaster } from '../../src/raster/open.js';
import { sceneName } from '../../src/raster/output-paths.js';
import { readProductMetadata } from '../../src/raster/product-metadata.js';
import { safeMemberPath } from '../../src/raster/product-archive.js';
import { extractTar, listTar } from '../../src/raster/tar-reader.js';
import { REPO, show, wdcd } from '../cli/helpers.js';
import { gdal, noGdal, tempDir } from './helpers.js';

const FIXTURES = join(REPO, 'test', 'fixtures', 'metadata');
const CLOUD38 = '/work/shared/data/landsat8-38cloud';
const PATCH = 'patch_192_10_by_12_LC08_L1TP_002053_20160520_20170324_01_T1.TIF';
/** Real Landsat 8 DN (38-Cloud), blue, green, red, NIR. */
const DN = ['blue', 'green', 'red', 'nir'].map((c) => join(CLOUD38, `${c}_${PATCH}`));
const L8 = 'LC08_L1TP_013031_20151022_20200908_02_T1';
const GF = 'GF1_WFV3_E113.0_N34.0_20220624_L1A0006547030';

/** An unpacked Landsat 8 product: MTL.txt, B1-B7 (B1, B6 and B7 are decoys holding other bands' pixels), QA. */
function landsatFolder(dir: string, name = L8): string {
  const folder = join(dir, name);
  mkdirSync(folder);
  copyFileSync(join(FIXTURES, `${L8}_MTL.txt`), join(folder, `${L8}_MTL.txt`));
  const files: Record<string, string> = { B1: DN[3], B2: DN[0], B3: DN[1], B4: DN[2], B5: DN[3], B6: DN[0], B7: DN[1], QA_PIXEL: DN[2] };
  for (const [band, from] of Object.entries(files)) copyFileSync(from, join(folder, `${L8}_${band}.TIF`));
  return folder;
}

/** `tar ARGS...` (GNU tar). */
const tar = (...args: string[]) => execFileSync('tar', args, { stdio: ['ignore', 'ignore', 'pipe'] });

/** The folder's files at its top, as USGS and CRESDA pack them (no folder inside the archive). */
const topFiles = (folder: string) => readdirSync(folder).sort();

/**
 * Points the OS temp folder (os.tmpdir(), read at each call) at a folder of this test's, so that what the archive
 * reader puts there and leaves there can be seen.
 */
function ownTmpdir(dir: string): string {
  const tmp = join(dir, 'tmp');
  mkdirSync(tmp);
  const old = process.env.TMPDIR;
  process.env.TMPDIR = tmp;
  after(() => {
    if (old === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = old;
  });
  return tmp;
}

/** The archive reader's temporary folders in `tmp`. */
const extractions = (tmp: string) => readdirSync(tmp).filter((n) => n.startsWith('wdcd-archive-'));

/** Every file under a folder, relative, sorted. */
function filesIn(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesIn(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`])).sort();
}

/**
 * Runs detect on `inputs`, recording what the temporary folder holds once detection has begun (at its first stage
 * event), and the log and warning messages.
 */
async function detectWatching(tmp: string, inputs: string[], mask: string) {
  let taken: string[] | undefined;
  const messages: string[] = [];
  const summary = await detect(inputs, {
    mask,
    onProgress: (e) => {
      if (e.kind === 'log' || e.kind === 'warning') messages.push(e.message);
      if (e.kind === 'stage' && taken === undefined) taken = extractions(tmp).flatMap((d) => filesIn(join(tmp, d)));
    },
  });
  return { summary, taken, messages };
}

describe('product archives', () => {
  const dir = tempDir();
  const tmp = ownTmpdir(dir);
  const folder = landsatFolder(dir);
  const tarFile = join(dir, `${L8}.tar`);
  let folderMask: Buffer;
  let folderSummary: DetectSummary;

  before(async () => {
    tar('-cf', tarFile, '-C', folder, ...topFiles(folder));
    folderSummary = await detect([folder], { mask: join(dir, 'folder.tif') });
    folderMask = readFileSync(join(dir, 'folder.tif'));
  });

  it('a Landsat .tar as USGS delivers it: the MTL and B2-B5 only taken out, the folder\'s mask byte for byte, the temporary folder gone', async () => {
    const mask = join(dir, 'tar.tif');
    const { summary, taken, messages } = await detectWatching(tmp, [tarFile], mask);
    assert.deepEqual(taken, [`${L8}_B2.TIF`, `${L8}_B3.TIF`, `${L8}_B4.TIF`, `${L8}_B5.TIF`, `${L8}_MTL.txt`], 'only the metadata and the four bands, not B1, B6, B7 or QA');
    assert.ok(readFileSync(mask).equals(folderMask), 'the same mask as the folder');
    assert.equal(summary.cloudFraction, folderSummary.cloudFraction);
    assert.equal(summary.sensor, 'landsat8');
    // The summary (and the messages) name the members in the archive, not the temporary folder, which is gone.
    assert.deepEqual(summary.inputs, ['B2', 'B3', 'B4', 'B5'].map((b) => `${tarFile}/${L8}_${b}.TIF`));
    assert.equal(summary.metadata?.file, `${tarFile}/${L8}_MTL.txt`);
    assert.deepEqual(JSON.parse(readFileSync(`${mask}.json`, 'utf8')).inputs, summary.inputs);
    assert.ok(messages.some((m) => m.startsWith(`${tarFile}: ${L8}_B2.TIF, ${L8}_B3.TIF`)), messages.join('\n'));
    assert.ok(messages.some((m) => /taking out 5 of 9 members/.test(m)), messages.join('\n'));
    assert.ok(!messages.some((m) => m.includes('wdcd-archive-') && !/taking out/.test(m)), messages.join('\n'));
    assert.deepEqual(extractions(tmp), [], 'the temporary folder is removed');
  });

  it('a .tar.gz and a .tgz, also of a product packed with its folder (tar -czf X.tar.gz X/): the folder\'s mask byte for byte', async () => {
    const tgz = join(dir, `${L8}.tgz`);
    tar('-czf', tgz, '-C', folder, ...topFiles(folder));
    const wrapped = join(dir, 'wrapped.tar.gz');
    tar('-czf', wrapped, '-C', dir, L8);
    for (const [archive, member] of [[tgz, ''], [wrapped, `${L8}/`]]) {
      const mask = join(dir, `${member ? 'wrapped' : 'tgz'}.tif`);
      const { summary, taken } = await detectWatching(tmp, [archive], mask);
      assert.deepEqual(taken, ['B2', 'B3', 'B4', 'B5', 'MTL'].map((b) => `${member}${L8}_${b}.${b === 'MTL' ? 'txt' : 'TIF'}`), archive);
      assert.ok(readFileSync(mask).equals(folderMask), `${archive}: the same mask as the folder`);
      assert.equal(summary.inputs[0], `${archive}/${member}${L8}_B2.TIF`);
      assert.deepEqual(extractions(tmp), []);
    }
  });

  it('a GaoFen .tar.gz as CRESDA delivers it: the multispectral TIFF with its XML and .rpb, the panchromatic pair left; the RPCs carried', { skip: noGdal }, async () => {
    const gf = join(dir, GF);
    mkdirSync(gf);
    copyFileSync(join(FIXTURES, `${GF}.xml`), join(gf, `${GF}.xml`));
    copyFileSync(join(FIXTURES, `${GF}.xml`), join(gf, `${GF}-PAN.xml`));
    // A 4-band 16-bit TIFF without georeferencing, placed by the .rpb beside it.
    gdal('gdalbuildvrt', '-q', '-separate', join(dir, 'gf.vrt'), ...DN);
    gdal('gdal_translate', '-q', '-co', 'PROFILE=BASELINE', join(dir, 'gf.vrt'), join(gf, `${GF}.tiff`));
    copyFileSync(DN[0], join(gf, `${GF}-PAN.tiff`));
    writeFileSync(join(gf, `${GF}.rpb`), rpbText());
    const archive = join(dir, `${GF}.tar.gz`);
    tar('-czf', archive, '-C', gf, ...topFiles(gf));
    await detect([gf], { mask: join(dir, 'gf-folder.tif') });
    const { summary, taken } = await detectWatching(tmp, [archive], join(dir, 'gf-archive.tif'));
    assert.deepEqual(taken, [`${GF}.rpb`, `${GF}.tiff`, `${GF}.xml`]);
    assert.equal(summary.sensor, 'gf1-wfv');
    assert.ok(readFileSync(join(dir, 'gf-archive.tif')).equals(readFileSync(join(dir, 'gf-folder.tif'))), 'the same mask as the folder');
    const written = await openRaster([join(dir, 'gf-archive.tif')]);
    await written.close();
    assert.ok(written.rpc, 'the mask carries the RPCs of the .rpb taken out with the TIFF');
    assert.deepEqual(extractions(tmp), []);
  });

  it('band files stored as links (a symlink into a folder, a hard link) are taken out as their targets; a link leading out is not followed', async () => {
    const linked = join(dir, 'linked');
    mkdirSync(join(linked, 'real'), { recursive: true });
    copyFileSync(join(folder, `${L8}_MTL.txt`), join(linked, `${L8}_MTL.txt`));
    for (const b of ['B2', 'B3', 'B4', 'B5']) copyFileSync(join(folder, `${L8}_${b}.TIF`), join(linked, 'real', `${b}.TIF`));
    symlinkSync('real/B2.TIF', join(linked, `${L8}_B2.TIF`));
    linkSync(join(linked, 'real', 'B3.TIF'), join(linked, `${L8}_B3.TIF`));
    // A link to a link in another folder.
    mkdirSync(join(linked, 'alias'));
    symlinkSync('../real/B4.TIF', join(linked, 'alias', 'B4.TIF'));
    symlinkSync('alias/B4.TIF', join(linked, `${L8}_B4.TIF`));
    symlinkSync(`./../linked/real/B5.TIF`, join(linked, `${L8}_B5.TIF`));
    const archive = join(dir, 'linked.tar');
    // real/ first, so that GNU tar stores B3's second name as a hard link to real/B3.TIF.
    tar('-cf', archive, '-C', linked, 'real', 'alias', `${L8}_MTL.txt`, ...['B2', 'B3', 'B4', 'B5'].map((b) => `${L8}_${b}.TIF`));
    const { members } = await listTar(archive);
    assert.deepEqual(members.filter((m) => m.linkTarget).map((m) => m.linkTarget!.kind).sort(), ['hard', 'symbolic', 'symbolic', 'symbolic', 'symbolic']);
    // B5's link climbs out of the archive's folder (../linked/...): not followed, so B5 is missing.
    await assert.rejects(detect([archive], { mask: join(dir, 'linked-out.tif') }), (e: Error) => e.message.includes(archive) && /B5/.test(e.message));
    rmSync(join(linked, `${L8}_B5.TIF`));
    symlinkSync(`real/../real/B5.TIF`, join(linked, `${L8}_B5.TIF`));
    tar('-cf', archive, '-C', linked, 'real', 'alias', `${L8}_MTL.txt`, ...['B2', 'B3', 'B4', 'B5'].map((b) => `${L8}_${b}.TIF`));
    const mask = join(dir, 'linked.tif');
    const { summary } = await detectWatching(tmp, [archive], mask);
    assert.ok(readFileSync(mask).equals(folderMask), 'the same mask as the folder');
    assert.deepEqual(summary.inputs, ['B2', 'B3', 'B4', 'B5'].map((b) => `${archive}/${L8}_${b}.TIF`));
    assert.deepEqual(extractions(tmp), []);
  });

  it('refused, naming the archive, with no output and no temporary folder left: gzip truncated or damaged, a damaged header, not a tar, no metadata, a band missing, --metadata, an archive among files', async () => {
    const bad = join(dir, 'bad');
    mkdirSync(bad);
    const files = topFiles(folder);
    const cases: [string, RegExp][] = [];
    // A .tar.gz cut short, and one with bytes of its deflate stream changed.
    const tgz = join(bad, 'truncated.tar.gz');
    tar('-czf', tgz, '-C', folder, ...files);
    const whole = readFileSync(tgz);
    truncateSync(tgz, Math.floor(whole.length * 0.6));
    cases.push([tgz, /truncated\.tar\.gz: is not a readable tar archive: gzip: unexpected end of file \(the file is truncated\)/]);
    const damaged = join(bad, 'damaged.tgz');
    const bytes = Buffer.from(whole);
    for (let i = 0; i < 64; i++) bytes[Math.floor(bytes.length / 2) + i] ^= 0x5a;
    writeFileSync(damaged, bytes);
    cases.push([damaged, /damaged\.tgz: is not a readable tar archive: /]);
    // A plain tar whose second header was changed: its checksum no longer adds up.
    const broken = join(bad, 'checksum.tar');
    tar('-cf', broken, '-C', folder, `${L8}_MTL.txt`, ...files.filter((f) => f.endsWith('.TIF')));
    const second = 512 + Math.ceil(statSync(join(folder, `${L8}_MTL.txt`)).size / 512) * 512;
    const raw = readFileSync(broken);
    raw[second + 3] ^= 0x01;
    writeFileSync(broken, raw);
    cases.push([broken, new RegExp(`checksum\\.tar: is not a readable tar archive: the header at byte ${second} is damaged: its checksum is wrong`)]);
    const notTar = join(bad, 'image.tar');
    copyFileSync(DN[0], notTar);
    cases.push([notTar, /image\.tar: is not a readable tar archive: it does not start with a tar header \(the checksum of the first 512 bytes is wrong\)/]);
    const noMetadata = join(bad, 'bands.tar');
    tar('-cf', noMetadata, '-C', folder, ...files.filter((f) => f.endsWith('.TIF')));
    cases.push([noMetadata, /bands\.tar: is an archive without product metadata wdcd reads \(a Landsat \*_MTL\.txt/]);
    const noB4 = join(bad, 'no-b4.tgz');
    tar('-czf', noB4, '-C', folder, ...files.filter((f) => !f.endsWith('_B4.TIF')));
    cases.push([noB4, new RegExp(`no-b4\\.tgz: holds no image of band B4 named in ${L8}_MTL\\.txt \\(${L8.toLowerCase()}_b4`)]);
    for (const [archive, message] of cases) {
      const mask = join(bad, 'mask.tif');
      await assert.rejects(detect([archive], { mask }), (e: Error) => e.name === 'InputError' && message.test(e.message), archive);
      assert.ok(!existsSync(mask) && !existsSync(`${mask}.json`), `${archive}: no output`);
      assert.deepEqual(extractions(tmp), [], `${archive}: no temporary folder left`);
    }
    await assert.rejects(
      detect([tarFile], { mask: join(bad, 'm.tif'), metadata: readProductMetadata(join(folder, `${L8}_MTL.txt`)) }),
      /\.tar: is a product archive, which brings its own metadata/,
    );
    await assert.rejects(detect([tarFile, DN[0]], { mask: join(bad, 'm.tif') }), /\.tar: is a product archive, not a raster file \(a product archive is read when it is the only input/);
    // The mask may not replace the archive it is read from.
    await assert.rejects(detect([tarFile], { mask: tarFile, overwrite: true }), /\.tar: is one of the inputs/);
    assert.ok(statSync(tarFile).size > 0);
  });

  it('members whose path leaves the archive\'s folder (../, a/../../, absolute) are skipped with a warning, never written', async () => {
    const evil = join(dir, 'evil');
    mkdirSync(join(evil, 'up'), { recursive: true });
    mkdirSync(join(evil, 'twice'));
    mkdirSync(join(evil, 'abs'));
    // Each holds the blue band under the red band's name: taken as B4, it would change the mask.
    for (const sub of ['up', 'twice', 'abs']) copyFileSync(DN[0], join(evil, sub, `${L8}_B4.TIF`));
    const absolute = join(evil, 'abs', `${L8}_B4.TIF`);
    const bands = (withB4: boolean) => topFiles(folder).filter((f) => withB4 || !f.endsWith('_B4.TIF'));
    const pack = (archive: string, withB4: boolean) =>
      tar('-P', '--transform', 's,^up/,../,', '--transform', 's,^twice/,x/../../,', '-cf', archive, '-C', folder, ...bands(withB4), '-C', evil, `up/${L8}_B4.TIF`, `twice/${L8}_B4.TIF`, absolute);
    const withGood = join(dir, 'evil-and-good.tar');
    const onlyEvil = join(dir, 'only-evil.tar');
    pack(withGood, true);
    pack(onlyEvil, false);
    unlinkSync(absolute);
    const names = (await listTar(onlyEvil)).members.map((m) => m.name);
    assert.ok(names.includes(`../${L8}_B4.TIF`) && names.includes(`x/../../${L8}_B4.TIF`) && names.includes(absolute), names.join('\n'));
    // With the product's own B4 too: detected as the folder is; the others are named in a warning.
    const { messages } = await detectWatching(tmp, [withGood], join(dir, 'evil.tif'));
    assert.ok(readFileSync(join(dir, 'evil.tif')).equals(folderMask), 'the product\'s own B4 is read');
    assert.ok(messages.some((m) => m.startsWith(`${withGood}: 3 members with a path outside the archive's folder ("../${L8}_B4.TIF"`)), messages.join('\n'));
    // Without it: no B4.
    await assert.rejects(detect([onlyEvil], { mask: join(dir, 'evil2.tif') }), /only-evil\.tar: holds no image of band B4/);
    for (const place of [join(tmp, `${L8}_B4.TIF`), join(dir, `${L8}_B4.TIF`), absolute]) assert.ok(!existsSync(place), `nothing written at ${place}`);
    assert.deepEqual(readdirSync(tmp).filter((n) => !n.startsWith('tsx') && !n.endsWith('.log') && !n.startsWith('.')), []);
    for (const [name, safe] of [['a/b.TIF', 'a/b.TIF'], ['./a//b.TIF', 'a/b.TIF'], ['../b.TIF', null], ['a/../../b.TIF', null], ['a/../b.TIF', null], ['/etc/passwd', null], ['C:/x', null], ['.', null]] as const) {
      assert.equal(safeMemberPath(name), safe, name);
    }
  });
});

describe('the tar reader', () => {
  it('reads GNU, pax and ustar archives with long paths, and takes out one member', async () => {
    const dir = tempDir();
    const src = join(dir, 'src');
    const deep = `${'d'.repeat(60)}/${'e'.repeat(60)}`;
    mkdirSync(join(src, deep), { recursive: true });
    writeFileSync(join(src, deep, 'f.txt'), 'far down\n');
    writeFileSync(join(src, 'top.bin'), Buffer.alloc(1500, 7));
    for (const format of ['gnu', 'pax', 'ustar']) {
      const archive = join(dir, `${format}.tar`);
      tar(`--format=${format}`, '-cf', archive, '-C', src, 'top.bin', deep);
      const { members, kept } = await listTar(archive, (m) => m.name.endsWith('f.txt'));
      const files = members.filter((m) => m.type === 'file');
      assert.deepEqual(files.map((m) => [m.name, m.size]), [['top.bin', 1500], [`${deep}/f.txt`, 9]], format);
      assert.equal(kept.get(files[1].index)?.toString(), 'far down\n', format);
      const out = join(dir, `${format}-top.bin`);
      await extractTar(archive, new Map([[files[0].index, [out]]]));
      assert.ok(readFileSync(out).equals(Buffer.alloc(1500, 7)), format);
    }
  });
});

describe('output names of a -O batch', () => {
  it('an archive without .tar, .tar.gz or .tgz; a folder whole (dots of GaoFen names kept), less .SAFE', () => {
    const dir = tempDir();
    for (const name of [`${L8}.tar`, `${GF}.tar.gz`, 'x.TGZ']) writeFileSync(join(dir, name), '');
    assert.equal(sceneName(join(dir, `${L8}.tar`)), L8);
    assert.equal(sceneName(join(dir, `${GF}.tar.gz`)), GF);
    assert.equal(sceneName(join(dir, 'x.TGZ')), 'x');
    for (const name of [GF, 'S2A_MSIL1C_20230612T103629_N0509_R008_T31TDH_20230612T124122.SAFE']) mkdirSync(join(dir, name));
    assert.equal(sceneName(join(dir, GF) + '/'), GF);
    assert.equal(sceneName(join(dir, 'S2A_MSIL1C_20230612T103629_N0509_R008_T31TDH_20230612T124122.SAFE')), 'S2A_MSIL1C_20230612T103629_N0509_R008_T31TDH_20230612T124122');
    assert.equal(sceneName(join(dir, 'scene.tif')), 'scene');
  });

  it('wdcd detect -O: one mask per archive named after it, a damaged archive skipped and named, exit 2; two archives of one name refused', async () => {
    const dir = tempDir();
    const folder = landsatFolder(dir);
    const archive = join(dir, `${L8}.tar`);
    tar('-cf', archive, '-C', folder, ...topFiles(folder));
    const damaged = join(dir, 'damaged.tar.gz');
    tar('-czf', damaged, '-C', folder, ...topFiles(folder));
    truncateSync(damaged, 1000);
    const out = join(dir, 'masks');
    const r = await wdcd(['detect', archive, damaged, '-O', out, '-q', '--json']);
    assert.equal(r.code, 2, show(r));
    const summaries = JSON.parse(r.stdout);
    assert.deepEqual(summaries.map((s: DetectSummary) => s.outputs.mask), [join(out, `${L8}_mask.tif`)]);
    assert.deepEqual(readdirSync(out).sort(), [`${L8}_mask.tif`, `${L8}_mask.tif.json`]);
    assert.match(r.stderr, /skipped: .*damaged\.tar\.gz: is not a readable tar archive: gzip: unexpected end of file/);
    assert.match(r.stderr, /1 of 2 scenes failed/);
    // The .tar and a .tgz of one product would both write LC08_..._T1_mask.tif.
    const tgz = join(dir, `${L8}.tgz`);
    tar('-czf', tgz, '-C', folder, ...topFiles(folder));
    const r2 = await wdcd(['detect', archive, tgz, '-O', join(dir, 'masks2'), '--metadata', join(FIXTURES, `${L8}_MTL.txt`)]);
    assert.equal(r2.code, 2, show(r2));
    assert.match(r2.stderr, /\.tar: is a product archive, which brings its own metadata/);
    const r3 = await wdcd(['detect', archive, tgz, '-O', join(dir, 'masks3')]);
    assert.equal(r3.code, 2, show(r3));
    assert.match(r3.stderr, new RegExp(`${L8}_mask\\.tif: is given to both the mask of .*\\.tar and the mask of .*\\.tgz`));
    assert.ok(!existsSync(join(dir, 'masks3', `${L8}_mask.tif`)));
  });

  it('wdcd detect stopped by SIGTERM while reading an archive: its temporary folder is removed', async () => {
    const dir = tempDir();
    const folder = landsatFolder(dir);
    const archive = join(dir, `${L8}.tar`);
    tar('-cf', archive, '-C', folder, ...topFiles(folder));
    const tmp = join(dir, 'tmp');
    mkdirSync(tmp);
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'src/cli/main.ts'), 'detect', archive, '-o', join(dir, 'mask.tif'), '-q'], {
      cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, TMPDIR: tmp },
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.on('exit', (code, signal) => done({ code, signal })));
    const started = Date.now();
    // Once the first member is out.
    while (!extractions(tmp).some((d) => readdirSync(join(tmp, d)).length > 0) && child.exitCode === null) {
      assert.ok(Date.now() - started < 60_000, `no temporary folder appeared; stderr: ${stderr}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    child.kill('SIGTERM');
    const end = await exited;
    assert.equal(end.signal, 'SIGTERM', `stopped by the signal (${JSON.stringify(end)}); stderr: ${stderr}`);
    assert.match(stderr, /stopped by SIGTERM/);
    assert.deepEqual(extractions(tmp), [], 'the temporary folder is removed');
    assert.ok(!existsSync(join(dir, 'mask.tif')));
  });
});

/** A .rpb as CRESDA writes them (signed, zero-padded, exponent notation), placing a 384 px image near 34 N 113 E. */
function rpbText(): string {
  const terms = (lead: number, sign: number) => Array.from({ length: 20 }, (_, i) => (i === lead ? sign : (i + 1) * 1.25e-5 * (i % 2 ? -1 : 1)));
  const list = (values: number[]) => `(\n${values.map((v) => `\t\t\t${v >= 0 ? '+' : ''}${v.toExponential(15).toUpperCase()}`).join(',\n')});`;
  const den = terms(0, 1);
  return [
    'satId = "GF1";', 'bandId = "WFV3";', 'SpecId = "RPC00B";', 'BEGIN_GROUP = IMAGE',
    '\terrBias =   1.0;', '\terrRand =    0.0;', '\tlineOffset = 000192;', '\tsampOffset = 000192;',
    '\tlatOffset =  +34.00000000;', '\tlongOffset = +113.00000000;', '\theightOffset = +100.000;',
    '\tlineScale = 000192;', '\tsampScale = 000192;', '\tlatScale =   +0.10000000;', '\tlongScale = +0.10000000;',
    '\theightScale = +500.000;',
    `\tlineNumCoef = ${list(terms(2, -1))}`, `\tlineDenCoef = ${list(den)}`,
    `\tsampNumCoef = ${list(terms(1, 1))}`, `\tsampDenCoef = ${list(den)}`,
    'END_GROUP = IMAGE', 'END;', '',
  ].join('\n');
}
