import { clearFigures, FIGURES_PATH } from './figures';

/** Starts every run with an empty figures file; checks the S3 server is configured. */
export default async function globalSetup(): Promise<void> {
  clearFigures();
  if (!process.env.S3_ENDPOINT) {
    throw new Error(
      'reliability tests need a real S3 server: eval "$(bash ../scripts/s3-server.sh env)" (S3_ENDPOINT is not set)',
    );
  }
  process.env.ES_RELIABILITY_FIGURES = FIGURES_PATH;
}
