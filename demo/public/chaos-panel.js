// The chaos controls: each input sets one setting of PUT /_chaos on the demo server.
const panel = document.querySelector('#chaos');

function read(input) {
  if (input.type === 'checkbox') return input.checked;
  const value = Number(input.value);
  return input.name === 'flaky' ? value / 100 : value;
}

function show(settings) {
  for (const input of panel.querySelectorAll('input')) {
    const value = settings[input.name];
    if (input.type === 'checkbox') input.checked = value;
    else input.value = input.name === 'flaky' ? Math.round(value * 100) : value;
  }
}

panel.addEventListener('change', async (event) => {
  const input = event.target;
  const response = await fetch('/_chaos', { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ [input.name]: read(input) }) });
  const answer = await response.json();
  if (response.ok) show(answer);
  else alert(answer.detail);
});

fetch('/_chaos').then((response) => response.json()).then(show);
