// Copy text, also where the async Clipboard API is missing or refused (VS Code webviews,
// pages served over plain http): fall back to a hidden textarea and execCommand.

export async function copyText(text: string, doc: Document = document): Promise<boolean> {
  try {
    // Only secure contexts have navigator.clipboard; a refused write throws.
    if (navigator.clipboard !== undefined) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // fall through to the legacy path
  }
  const area = doc.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.style.position = "fixed";
  area.style.opacity = "0";
  doc.body.append(area);
  area.select();
  try {
    return doc.execCommand("copy");
  } catch {
    return false;
  } finally {
    area.remove();
  }
}
