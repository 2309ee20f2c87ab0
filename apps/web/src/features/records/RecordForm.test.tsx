import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { RecordForm, type RecordFormSubmit } from './RecordForm';
import { RecordContentView } from './RecordContentView';

describe('RecordForm', () => {
  it('when a lab result with values is filled in, then it submits structured values and units', async () => {
    const user = userEvent.setup();
    const submitted: RecordFormSubmit[] = [];
    render(
      <RecordForm today="2026-11-27" submitLabel="Save" onSubmit={(s) => submitted.push(s)} />,
    );
    await user.selectOptions(screen.getByLabelText('Kind'), 'lab');
    await user.type(screen.getByLabelText('Title'), 'Blood panel');
    await user.type(screen.getByLabelText('Test 1'), 'HbA1c');
    await user.type(screen.getByLabelText('Value 1'), '5.4');
    await user.type(screen.getByLabelText('Unit 1'), '%');
    await user.click(screen.getByRole('button', { name: 'Save' }));
    expect(submitted).toHaveLength(1);
    expect(submitted[0]?.content).toEqual({
      v: 1,
      kind: 'lab',
      title: 'Blood panel',
      date: '2026-11-27',
      body: '',
      attachments: [],
      values: [{ name: 'HbA1c', value: '5.4', unit: '%' }],
    });
  });

  it('when the title is empty, then it does not submit and says which field is wrong', async () => {
    const user = userEvent.setup();
    const submitted: RecordFormSubmit[] = [];
    render(
      <RecordForm today="2026-11-27" submitLabel="Save" onSubmit={(s) => submitted.push(s)} />,
    );
    await user.click(screen.getByRole('button', { name: 'Save' }));
    expect(submitted).toHaveLength(0);
    expect(screen.getByRole('alert')).toHaveTextContent('title');
  });

  it('when a file over 20 MiB is chosen, then it is refused with a clear message', async () => {
    const user = userEvent.setup();
    render(<RecordForm today="2026-11-27" submitLabel="Save" onSubmit={() => undefined} />);
    const big = new File(['x'], 'scan.pdf', { type: 'application/pdf' });
    Object.defineProperty(big, 'size', { value: 21 * 1024 * 1024 });
    await user.upload(screen.getByLabelText(/Add PDF or image files/), big);
    expect(screen.getByRole('alert')).toHaveTextContent('larger than 20 MiB');
  });
});

describe('RecordContentView', () => {
  it('when shown a prescription, then drug, dose and schedule are listed', () => {
    render(
      <RecordContentView
        content={{
          v: 1,
          kind: 'prescription',
          title: 'Metformin',
          date: '2026-01-02',
          body: '',
          attachments: [],
          drug: 'Metformin',
          dose: '500 mg',
          schedule: 'twice daily',
        }}
      />,
    );
    expect(screen.getByRole('heading', { name: 'Metformin' })).toBeInTheDocument();
    expect(screen.getByText('500 mg')).toBeInTheDocument();
    expect(screen.getByText('twice daily')).toBeInTheDocument();
  });
});
