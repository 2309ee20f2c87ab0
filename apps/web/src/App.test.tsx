import { render, screen } from '@testing-library/react';
import { App } from './App';

describe('App shell', () => {
  it('when rendered, then shows the product name as the page heading', () => {
    render(<App />);
    expect(screen.getByRole('heading', { level: 1, name: 'Medseal' })).toBeInTheDocument();
  });
});
