// Font files are bundled as data URLs (esbuild `--loader:.woff2=dataurl`); under vitest the
// import yields the asset's path. Either way the default export is a URL string.
declare module "*.woff2" {
  const url: string;
  export default url;
}
