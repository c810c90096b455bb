// Text put inside markup we build ourselves (highlighted code, math sources, an image's
// alt text, an exported page): the characters that could end an element or an attribute.

export const escapeHtml = (s: string): string =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
