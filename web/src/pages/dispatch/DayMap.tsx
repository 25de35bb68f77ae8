/**
 * The day's jobs on a map: a point per job at its address's coordinates and, per provider, a
 * route through their jobs in time order, in the provider's colour; unassigned jobs as hollow
 * grey points. Drawn as SVG in Web Mercator: on a plain background (no network needed), or on
 * map tiles when VITE_MAP_TILE_URL is set. Jobs whose address has no coordinates are listed
 * beside the map, and every stop is listed in words too.
 */
import { config } from "../../lib/config";
import { latLngText, time } from "../../lib/format";
import { Link } from "../../lib/router";
import type { Board, Job } from "./Board";
import { fit, tilesFor, toView, type LatLng } from "./geo";

const WIDTH = 800;
const HEIGHT = 500;
const PAD = 48;
const UNASSIGNED_COLOR = "#6b7280";

type Route = { key: string; name: string; color: string; jobs: (Job & { location: LatLng })[] };

export function DayMap({ board }: { board: Board }) {
  const tz = board.timeZone;
  const located = (jobs: Job[]) => jobs.filter((j): j is Job & { location: LatLng } => j.location !== undefined);
  const routes: Route[] = board.providers
    .map((p) => ({ key: p.resourceId as string, name: p.name, color: p.color ?? "#0f4c81", jobs: located(p.jobs) }))
    .filter((r) => r.jobs.length > 0);
  const queued = located(board.unassigned);
  const withoutCoordinates = [
    ...board.providers.flatMap((p) => p.jobs.filter((j) => j.location === undefined).map((j) => ({ job: j, who: p.name }))),
    ...board.unassigned.filter((j) => j.location === undefined).map((j) => ({ job: j, who: "unassigned" })),
  ].sort((a, b) => a.job.start - b.job.start);
  const points = [...routes.flatMap((r) => r.jobs), ...queued].map((j) => j.location);
  const view = fit(points, WIDTH, HEIGHT, PAD);
  const tiles = config.mapTileUrl && points.length > 0 ? tilesFor(view, config.mapTileUrl) : [];
  const total = points.length;
  const label = `Map of ${total} job${total === 1 ? "" : "s"} with coordinates: ${routes.map((r) => `${r.name} ${r.jobs.length}`).join(", ")}${queued.length ? `, unassigned ${queued.length}` : ""}`;

  return (
    <div className="day-map" data-testid="day-map">
      <figure className="map-figure">
        {total === 0 ? (
          <p className="muted map-empty">No job of this day has an address with coordinates.</p>
        ) : (
          <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={label} className={tiles.length ? "with-tiles" : "plain"} data-zoom={view.zoom.toFixed(2)}>
            <rect width={WIDTH} height={HEIGHT} className="map-bg" />
            {tiles.map((t) => (
              <image key={t.key} href={t.href} x={t.x} y={t.y} width={t.size} height={t.size} />
            ))}
            {tiles.length === 0 && <Graticule />}
            {routes.map((r) => (
              <polyline
                key={`route-${r.key}`}
                className="map-route"
                data-provider={r.name}
                points={r.jobs.map((j) => toView(j.location, view)).map((q) => `${q.x.toFixed(1)},${q.y.toFixed(1)}`).join(" ")}
                stroke={r.color}
              />
            ))}
            {routes.flatMap((r) =>
              r.jobs.map((j, i) => {
                const q = toView(j.location, view);
                return (
                  <g key={j.bookingId} className="map-point" data-booking={j.bookingId} data-provider={r.name} transform={`translate(${q.x.toFixed(1)} ${q.y.toFixed(1)})`}>
                    <circle r={11} fill={r.color} />
                    <text textAnchor="middle" dy="0.35em">
                      {i + 1}
                    </text>
                    <title>{`${r.name} stop ${i + 1}: ${time(j.start, tz)} ${j.customerName}, ${j.address ?? ""}`}</title>
                  </g>
                );
              }),
            )}
            {queued.map((j) => {
              const q = toView(j.location, view);
              return (
                <g key={j.bookingId} className="map-point unassigned" data-booking={j.bookingId} transform={`translate(${q.x.toFixed(1)} ${q.y.toFixed(1)})`}>
                  <circle r={9} stroke={UNASSIGNED_COLOR} />
                  <title>{`Unassigned: ${time(j.start, tz)} ${j.customerName}, ${j.address ?? ""}`}</title>
                </g>
              );
            })}
          </svg>
        )}
        {tiles.length > 0 && config.mapTileAttribution && <figcaption className="small muted">{config.mapTileAttribution}</figcaption>}
      </figure>
      <div className="map-side">
        <h2 className="small-heading">Routes</h2>
        {routes.length === 0 && queued.length === 0 && <p className="muted small">No stops to show.</p>}
        {routes.map((r) => (
          <section key={r.key} className="map-route-list" aria-label={`${r.name}'s stops`} data-provider={r.name}>
            <h3>
              <span className="provider-color" style={{ background: r.color }} aria-hidden="true" /> {r.name}
            </h3>
            <ol>
              {r.jobs.map((j) => (
                <li key={j.bookingId} data-booking={j.bookingId}>
                  <Link href={`/bookings/${j.bookingId}`}>
                    {time(j.start, tz)} {j.customerName}
                  </Link>
                  <span className="small muted"> {j.address} ({latLngText(j.location.lat, j.location.lng)})</span>
                </li>
              ))}
            </ol>
          </section>
        ))}
        {queued.length > 0 && (
          <section className="map-route-list" aria-label="Unassigned stops">
            <h3>Unassigned</h3>
            <ul>
              {queued.map((j) => (
                <li key={j.bookingId} data-booking={j.bookingId}>
                  <Link href={`/bookings/${j.bookingId}`}>
                    {time(j.start, tz)} {j.customerName}
                  </Link>
                  <span className="small muted"> {j.address}</span>
                </li>
              ))}
            </ul>
          </section>
        )}
        <h2 className="small-heading">Without coordinates</h2>
        {withoutCoordinates.length === 0 ? (
          <p className="muted small">Every job's address has coordinates.</p>
        ) : (
          <ul className="no-coordinates" data-testid="no-coordinates">
            {withoutCoordinates.map(({ job, who }) => (
              <li key={job.bookingId} data-booking={job.bookingId}>
                <Link href={`/bookings/${job.bookingId}`}>
                  {time(job.start, tz)} {job.customerName}
                </Link>
                <span className="small muted">
                  {" "}
                  {job.address ?? "no address"} · {who}
                </span>
              </li>
            ))}
          </ul>
        )}
      </div>
    </div>
  );
}

/** Faint lines every 100 px so the plain map still reads as a map. */
function Graticule() {
  const lines = [];
  for (let x = 100; x < WIDTH; x += 100) lines.push(<line key={`x${x}`} x1={x} y1={0} x2={x} y2={HEIGHT} />);
  for (let y = 100; y < HEIGHT; y += 100) lines.push(<line key={`y${y}`} x1={0} y1={y} x2={WIDTH} y2={y} />);
  return (
    <g className="map-grid" aria-hidden="true">
      {lines}
    </g>
  );
}
