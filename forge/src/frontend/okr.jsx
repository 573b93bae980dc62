// Shared pieces of the two UI Kit frontends: calling okrbridge and drawing one key result.
import React from 'react';
import { invokeRemote } from '@forge/bridge';
import { Inline, Link, Lozenge, ProgressBar, Stack, Text } from '@forge/react';

// okrbridge's status colours -> UI Kit lozenge appearances.
const APPEARANCE = { green: 'success', yellow: 'moved', red: 'removed', grey: 'default' };

// POST `body` to okrbridge at `path` on the remote; resolves to the JSON answer
// or throws an Error carrying okrbridge's own message.
export async function askOkrbridge(path, body) {
  const answer = await invokeRemote({ path, method: 'POST', body });
  const status = answer && answer.status;
  const data = answer && answer.body;
  if (status !== 200) {
    throw new Error((data && data.error) || `okrbridge answered ${status}`);
  }
  return data;
}

// A few characters of sparkline from the trend points ([[iso, value], ...]).
export function sparkline(points) {
  const bars = '▁▂▃▄▅▆▇█';
  const values = (points || []).map((p) => p[1]).slice(-16);
  if (values.length < 2) return '';
  const low = Math.min(...values);
  const span = Math.max(...values) - low || 1;
  return values.map((v) => bars[Math.round(((v - low) / span) * (bars.length - 1))]).join('');
}

const number = (value) => (value === null || value === undefined ? '—' : Number(value).toLocaleString());

export function KrCard({ kr }) {
  return (
    <Stack space="space.050">
      <Inline space="space.100" alignBlock="center">
        <Link href={kr.url} openNewTab>{`${kr.id} ${kr.title}`}</Link>
        <Lozenge appearance={APPEARANCE[kr.colour] || 'default'}>{kr.status}</Lozenge>
        {kr.stale ? <Lozenge appearance="removed">stale</Lozenge> : null}
      </Inline>
      <ProgressBar value={kr.progress} ariaLabel={`${kr.id} score`} />
      <Text>
        {`${number(kr.value)} ${kr.unit} of ${kr.target} · score ${kr.score === null ? '—' : kr.score.toFixed(2)}`}
        {` · ${kr.pace} · forecast ${number(kr.forecast)} · ${sparkline(kr.trend)}`}
      </Text>
      <Text>{`${kr.objective.id} ${kr.objective.title} · owner ${kr.owner || '—'} · from ${kr.how.source}`}</Text>
      {kr.stale && kr.stale_reason ? <Text>{`Last sync failed: ${kr.stale_reason}`}</Text> : null}
    </Stack>
  );
}
