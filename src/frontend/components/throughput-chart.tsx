import type { Throughput } from '../../admin/admin-types';
import { throughputChart } from '../logic/chart';
import { formatCount } from '../logic/format';

const WIDTH = 600;
const HEIGHT = 120;

/**
 * Completed (stacked with failed) jobs per minute over the last hour, as inline SVG. The view box is fixed
 * and the element's height is set in CSS, so a poll only changes bar heights, never the layout.
 */
export function ThroughputChart({ throughput, queue }: { throughput: Throughput; queue: string }) {
  const model = throughputChart(throughput, WIDTH, HEIGHT);
  const summary =
    `${queue}: ${formatCount(model.totalCompleted)} completed and ${formatCount(model.totalFailed)} failed ` +
    `in the last ${model.bars.length} minutes`;
  return (
    <figure class="chart">
      <figcaption class="chart-legend">
        <span class="legend-item legend-completed">
          completed <span class="num">{formatCount(model.totalCompleted)}</span>
        </span>
        <span class="legend-item legend-failed">
          failed <span class="num">{formatCount(model.totalFailed)}</span>
        </span>
        <span class="legend-item muted">
          scale 0–<span class="num">{formatCount(model.scaleMax)}</span> per min
        </span>
      </figcaption>
      <svg
        class="chart-svg"
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        preserveAspectRatio="none"
        role="img"
        aria-label={summary}
        data-testid={`chart-${queue}`}
      >
        <line class="chart-axis" x1="0" y1={HEIGHT - 0.5} x2={WIDTH} y2={HEIGHT - 0.5} />
        {model.bars.map((bar) => (
          <g key={bar.minute}>
            <title>{`${new Date(bar.minute).toISOString().slice(11, 16)} UTC: ${bar.completed} completed, ${bar.failed} failed`}</title>
            <rect class="bar-completed" x={bar.x} y={bar.completedY} width={bar.width} height={bar.completedHeight} />
            <rect class="bar-failed" x={bar.x} y={bar.failedY} width={bar.width} height={bar.failedHeight} />
          </g>
        ))}
      </svg>
      <div class="chart-scale muted" aria-hidden="true">
        <span>−60 min</span>
        <span>now</span>
      </div>
    </figure>
  );
}
