import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { endpoints, type PracticeDto } from '@medseal/contract';
import { describeError } from '../../api/errors';
import { PageHead } from '../../app/PageHead';
import { useWorkspace } from '../../app/workspace';
import { Banner, Button, Card, TextField } from '../../ui';
import { createPractice, createTeam } from './teamService';

/** Doctor: the teams I belong to, the practices I run, and their teams (DESIGN §13). */
export function TeamsPage() {
  const { deps } = useWorkspace();
  const mine = useQuery({
    queryKey: ['my-teams', deps.me.id],
    queryFn: () => deps.call(endpoints.listMyTeams, {}),
  });
  const practices = useQuery({
    queryKey: ['practices', deps.me.id],
    queryFn: () => deps.call(endpoints.listPractices, {}),
  });
  return (
    <>
      <PageHead title="Care teams" />
      <p>
        A care team reads the records patients share with it. Everyone in it is listed with the role
        an admin signed for them, so patients see who is attested. When someone leaves, their access
        ends at once.
      </p>
      <Card labelledBy="my-teams">
        <h2 id="my-teams">Your teams</h2>
        {mine.isError ? <Banner tone="bad">{describeError(mine.error)}</Banner> : null}
        {mine.isSuccess && mine.data.teams.length === 0 ? (
          <p>You are not in any team yet.</p>
        ) : null}
        <ul aria-label="Your teams">
          {mine.data?.teams.map((t) => (
            <li key={t.id}>
              <Link to={`/teams/${t.id}`}>{t.name}</Link> ({t.practiceName})
            </li>
          ))}
        </ul>
      </Card>
      {practices.isError ? <Banner tone="bad">{describeError(practices.error)}</Banner> : null}
      {practices.data?.practices.map((p) => (
        <PracticeCard key={p.id} practice={p} />
      ))}
      <NewPractice />
    </>
  );
}

function NewPractice() {
  const { deps } = useWorkspace();
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const create = useMutation({
    mutationFn: () => createPractice(deps.call, name.trim()),
    onSuccess: () => {
      setName('');
      void queryClient.invalidateQueries({ queryKey: ['practices'] });
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (name.trim()) create.mutate();
  };
  return (
    <Card labelledBy="new-practice">
      <h2 id="new-practice">New practice</h2>
      <form onSubmit={submit}>
        <TextField
          label="Practice name"
          value={name}
          onChange={(e) => setName(e.target.value)}
          hint="For example: St Mary’s Hospital. You become its admin."
        />
        <Button type="submit" disabled={create.isPending || !name.trim()}>
          Create practice
        </Button>
      </form>
      {create.isError ? <Banner tone="bad">{describeError(create.error)}</Banner> : null}
    </Card>
  );
}

function PracticeCard({ practice }: { practice: PracticeDto }) {
  const { deps } = useWorkspace();
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const create = useMutation({
    mutationFn: () => createTeam(deps, practice, name.trim()),
    onSuccess: () => {
      setName('');
      void queryClient.invalidateQueries({ queryKey: ['practices'] });
      void queryClient.invalidateQueries({ queryKey: ['my-teams'] });
    },
  });
  const headingId = `practice-${practice.id}`;
  return (
    <Card labelledBy={headingId}>
      <h2 id={headingId}>{practice.name}</h2>
      <p>You run this practice.</p>
      <ul aria-label={`Teams of ${practice.name}`}>
        {practice.teams.map((t) => (
          <li key={t.id}>
            <Link to={`/teams/${t.id}`}>{t.name}</Link>
          </li>
        ))}
      </ul>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (name.trim()) create.mutate();
        }}
      >
        <TextField
          label="New team name"
          value={name}
          onChange={(e) => setName(e.target.value)}
          hint="For example: Cardiology. You become its first admin."
        />
        <Button type="submit" disabled={create.isPending || !name.trim()}>
          {create.isPending ? 'Creating the team’s key…' : 'Create team'}
        </Button>
      </form>
      {create.isError ? <Banner tone="bad">{describeError(create.error)}</Banner> : null}
    </Card>
  );
}
