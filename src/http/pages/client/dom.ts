/** Small DOM helpers shared by the page modules. */

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`missing #${id}`);
  return element as T;
}

/** The page's two live regions (see messageRegions() on the server). */
let generation = 0;

export const messages = {
  status(text: string): void {
    const mine = ++generation;
    byId('error').textContent = '';
    const region = byId('status');
    region.textContent = '';
    // A tick later, so a region that just moved (showStep) or repeats itself is announced.
    setTimeout(() => {
      if (generation === mine) region.textContent = text;
    }, 30);
  },
  error(text: string): void {
    const mine = ++generation;
    byId('status').textContent = '';
    // Emptying the region first makes screen readers announce a repeated failure again.
    const region = byId('error');
    region.textContent = '';
    setTimeout(() => {
      if (generation === mine) region.textContent = text;
    }, 30);
  },
  clear(): void {
    generation++;
    byId('status').textContent = '';
    byId('error').textContent = '';
  },
};

/**
 * Runs an action with its button disabled and marked busy, so a double click cannot send the
 * request twice. Returns what the action returned.
 */
export async function busy<T>(
  button: HTMLButtonElement | null,
  label: string | null,
  action: () => Promise<T>,
): Promise<T> {
  const original = button?.textContent ?? '';
  if (button) {
    button.disabled = true;
    button.setAttribute('aria-busy', 'true');
    if (label) button.textContent = label;
  }
  try {
    return await action();
  } finally {
    if (button) {
      button.disabled = false;
      button.removeAttribute('aria-busy');
      if (label) button.textContent = original;
    }
  }
}

/**
 * Shows one step of a multi-step card and moves focus to its heading (or `focus`) for screen
 * readers. The message regions move along into the step, so errors appear next to the form.
 */
export function showStep(steps: HTMLElement[], shown: HTMLElement, focus?: HTMLElement | null): void {
  for (const step of steps) step.hidden = step !== shown;
  const regions = document.querySelector('.messages');
  const slot = shown.querySelector('.messages-slot');
  if (regions && slot && regions.parentElement !== slot) slot.append(regions);
  const target = focus ?? shown.querySelector<HTMLElement>('h1, h2');
  target?.focus();
}

/** Rewrites server-written UTC dates (`time[data-local]`) in the reader's locale and time zone. */
export function localizeTimes(root: ParentNode = document): void {
  const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });
  for (const element of root.querySelectorAll<HTMLTimeElement>('time[data-local]')) {
    const at = new Date(element.dateTime);
    if (Number.isNaN(at.getTime())) continue;
    element.textContent = dateFormat.format(at);
    element.title = at.toLocaleString();
  }
}

/** Navigates after a sign-in: to the target the server checked, else the account page. */
export function go(target: string | null | undefined): void {
  window.location.assign(target || '/account');
}

/**
 * Builds an element. Tag and attribute names are the caller's constants; children that are
 * strings become text nodes, so data from the API is never parsed as markup.
 */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string> = {},
  ...children: Array<Node | string | null | undefined>
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  for (const child of children) if (child !== null && child !== undefined) element.append(child);
  return element;
}

/** A `<time>` for an epoch-ms instant, written in the reader's locale and time zone. */
export function localTime(at: number): HTMLTimeElement {
  const date = new Date(at);
  return el(
    'time',
    { datetime: date.toISOString(), title: date.toISOString() },
    new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' }).format(date),
  );
}
