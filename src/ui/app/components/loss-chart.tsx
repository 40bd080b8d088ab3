// Training loss, validation loss and token accuracy against step, drawn by uPlot; new points are
// pushed into the same chart (setData), so it updates while the job runs without redrawing the page.
import uPlot from 'uplot'
import { useEffect, useRef } from 'preact/hooks'
import type { Series } from '../lib/metrics.ts'

function css(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888'
}

/** Taller on wide screens, and canvas text as large as the page's (uPlot draws it, CSS cannot size it). */
const heightFor = (width: number) => Math.round(Math.min(640, Math.max(260, width * 0.3)))

function options(width: number): uPlot.Options {
  const px = parseFloat(getComputedStyle(document.documentElement).fontSize) || 15
  const font = `${Math.round(px * 0.8)}px system-ui, sans-serif`
  const axis = { stroke: css('--muted'), grid: { stroke: css('--grid') }, ticks: { stroke: css('--grid') }, font, labelFont: font, size: Math.round(px * 3) }
  return {
    width,
    height: heightFor(width),
    scales: { x: { time: false }, loss: {}, acc: { range: [0, 1] } },
    axes: [
      { ...axis, label: 'step' },
      { ...axis, scale: 'loss', label: 'loss' },
      { ...axis, scale: 'acc', side: 1, label: 'token accuracy', grid: { show: false } },
    ],
    series: [
      { label: 'step' },
      { label: 'training loss', scale: 'loss', stroke: css('--chart-1'), width: 2 },
      { label: 'validation loss', scale: 'loss', stroke: css('--chart-2'), width: 2, spanGaps: true, points: { show: true, size: 6 } },
      { label: 'token accuracy', scale: 'acc', stroke: css('--chart-3'), width: 1.5, spanGaps: true },
    ],
    legend: { live: true },
  }
}

export function LossChart({ series }: { series: Series }) {
  const box = useRef<HTMLDivElement>(null)
  const plot = useRef<uPlot | null>(null)
  const data: uPlot.AlignedData = [series.step, series.trainLoss, series.validLoss, series.tokenAccuracy]

  useEffect(() => {
    const el = box.current!
    plot.current = new uPlot(options(el.clientWidth || 600), data, el)
    const resize = new ResizeObserver(() => plot.current?.setSize({ width: el.clientWidth, height: heightFor(el.clientWidth) }))
    resize.observe(el)
    // Colours follow the system theme.
    const scheme = matchMedia('(prefers-color-scheme: dark)')
    const recolour = () => {
      plot.current?.destroy()
      plot.current = new uPlot(options(el.clientWidth || 600), data, el)
    }
    scheme.addEventListener('change', recolour)
    return () => {
      resize.disconnect()
      scheme.removeEventListener('change', recolour)
      plot.current?.destroy()
      plot.current = null
    }
  }, [])

  useEffect(() => {
    plot.current?.setData(data)
  }, [series])

  const last = series.step.length - 1
  return (
    <figure class="chart" aria-label="Training curves">
      <div ref={box} class="chart-canvas" data-testid="loss-chart" data-points={series.step.length} data-last-step={last >= 0 ? series.step[last] : ''} />
      <figcaption class="muted small" aria-live="polite">
        {last < 0
          ? 'No training step reported yet.'
          : `${series.step.length} steps reported; step ${series.step[last]}: training loss ${series.trainLoss[last]?.toFixed(3) ?? '—'}`}
      </figcaption>
    </figure>
  )
}
