import { parseStripeForm } from '../../../src/dev/stripe-form';

describe('parseStripeForm (the Stripe emulator\'s request decoding)', () => {
  test('reads bracketed objects as nested objects', () => {
    expect(parseStripeForm('name=n&scope%5Btype%5D=user&scope%5Buser%5D=usr_1')).toEqual({
      name: 'n',
      scope: { type: 'user', user: 'usr_1' },
    });
  });

  test('reads both expand[]= and stripe-node\'s expand[0]= as lists', () => {
    expect(parseStripeForm('expand[]=payload&expand[]=scope')).toEqual({ expand: ['payload', 'scope'] });
    expect(parseStripeForm('expand[0]=payload&expand[1]=scope')).toEqual({ expand: ['payload', 'scope'] });
  });

  test('decodes form encoding in values', () => {
    expect(parseStripeForm('payload=a%2Bb+c%3D')).toEqual({ payload: 'a+b c=' });
  });
});
