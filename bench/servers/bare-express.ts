import express from 'express';

// Baseline: a bare Express 5 app, one GET route with a small JSON body; the ratio targets refer to this.
const app = express();
app.get('/', (_req, res) => {
  res.json({ hello: 'world', ok: true });
});
app.listen(Number(process.env.PORT), '127.0.0.1');
