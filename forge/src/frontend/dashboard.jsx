// The OKR dashboard page in Jira: All / Group / Personal, for the year, quarter or month.
import React, { useEffect, useState } from 'react';
import ForgeReconciler, {
  Button, ButtonGroup, Heading, Inline, Lozenge, SectionMessage, Spinner, Stack, Tab, TabList, TabPanel, Tabs, Text,
} from '@forge/react';
import { askOkrbridge, KrCard } from './okr';

const TABS = [['all', 'All'], ['group', 'Group'], ['personal', 'Personal']];
const PERIODS = ['year', 'quarter', 'month'];

function Objectives({ tab, period }) {
  const [answer, setAnswer] = useState(null);
  const [failure, setFailure] = useState(null);
  useEffect(() => {
    setAnswer(null);
    askOkrbridge('/forge/dashboard', { tab, period }).then(setAnswer, (error) => setFailure(error.message));
  }, [tab, period]);
  if (failure) return <SectionMessage appearance="error"><Text>{failure}</Text></SectionMessage>;
  if (!answer) return <Spinner label="Loading objectives" />;
  if (answer.objectives.length === 0) return <Text>{`No objectives here for ${answer.period}.`}</Text>;
  return (
    <Stack space="space.300">
      {answer.objectives.map((o) => (
        <Stack key={o.id} space="space.100">
          <Inline space="space.100" alignBlock="center">
            <Heading as="h3">{`${o.id} ${o.title}`}</Heading>
            <Lozenge>{`${o.score === null ? '—' : o.score.toFixed(2)} ${o.status}`}</Lozenge>
          </Inline>
          {o.krs.map((kr) => <KrCard key={kr.id} kr={kr} />)}
        </Stack>
      ))}
    </Stack>
  );
}

function Dashboard() {
  const [period, setPeriod] = useState('quarter');
  return (
    <Stack space="space.200">
      <ButtonGroup>
        {PERIODS.map((p) => (
          <Button key={p} appearance={p === period ? 'primary' : 'default'} onClick={() => setPeriod(p)}>{p}</Button>
        ))}
      </ButtonGroup>
      <Tabs id="okr-tabs">
        <TabList>{TABS.map(([key, label]) => <Tab key={key}>{label}</Tab>)}</TabList>
        {TABS.map(([key]) => <TabPanel key={key}><Objectives tab={key} period={period} /></TabPanel>)}
      </Tabs>
    </Stack>
  );
}

ForgeReconciler.render(<React.StrictMode><Dashboard /></React.StrictMode>);
