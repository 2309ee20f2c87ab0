/** The application shell: header and the main area the features render into. */
export function App() {
  return (
    <>
      <header>
        <h1>Medseal</h1>
        <p>End-to-end encrypted health records. Your browser encrypts; the server only stores ciphertext.</p>
      </header>
      <main />
    </>
  );
}
