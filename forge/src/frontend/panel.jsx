// The Jira issue panel: the key results the issue's epic drives, as okrbridge answers for this user.
import React, { useEffect, useState } from 'react';
import ForgeReconciler, { SectionMessage, Spinner, Stack, Text, useProductContext } from '@forge/react';
import { askOkrbridge, KrCard } from './okr';

function Panel() {
  const context = useProductContext();
  const [answer, setAnswer] = useState(null);
  const [failure, setFailure] = useState(null);
  const issueKey = context && context.extension && context.extension.issue && context.extension.issue.key;

  useEffect(() => {
    if (!issueKey) return;
    // The issue key also travels in the signed token, which okrbridge prefers.
    askOkrbridge('/forge/panel', { issueKey }).then(setAnswer, (error) => setFailure(error.message));
  }, [issueKey]);

  if (failure) return <SectionMessage appearance="error"><Text>{failure}</Text></SectionMessage>;
  if (!answer) return <Spinner label="Loading key results" />;
  return (
    <Stack space="space.200">
      {answer.krs.map((kr) => <KrCard key={kr.id} kr={kr} />)}
      {answer.message ? <Text>{answer.message}</Text> : null}
      {answer.hidden > 0 && answer.krs.length > 0
        ? <Text>{`${answer.hidden} more key result(s) you may not see.`}</Text> : null}
    </Stack>
  );
}

ForgeReconciler.render(<React.StrictMode><Panel /></React.StrictMode>);
