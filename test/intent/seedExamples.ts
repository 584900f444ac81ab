/**
 * The three request/response pairs of the vendor's SALE page, as JSON text. Two typos the research notes list
 * (docs/protocol/smartx-intent.md §5) are fixed so the text parses: the stray `],` after item 2's markings
 * and the missing comma after `uuid` in the success answer. Nothing else is changed.
 */

export const SEED_SUCCESS_REQUEST = `{
    "cashier": "Кассир",
    "itemList": [
        {
            "nameTitle": "Товар 1",
            "codeNumber": "1",
            "typeCode": "0",
            "price": "4",
            "amount": "1"
        },
        {
            "nameTitle": "Товар 2",
            "codeNumber": "234002634987",
            "typeCode": "1",
            "markings": [
                {
                  "si": "midom0im20m03223d-2-d"
                },
                {
                  "ukz": "2321987121CAC"
                }
            ],
            "price": "1",
            "amount": "9999.99",
            "isPercentDiscount": false,
            "discount": "9999.98",
            "isPercentIncrease": true,
            "increase": "50",
            "section":{
              "code": 123,
              "name": "бакалея"
            }
        },
        {
            "codeNumber": "20",
            "price": "4",
            "amount": "1",
            "isPercentDiscount": true,
            "discount": "1"
        }
    ],
    "cash": "15",
    "cashless": "0",
    "certificate": "0",
    "isPercentIncrease": false,
    "chequeIncrease": "10",
    "isPercentDiscount": true,
    "chequeDiscount": "10",
    "tpTaxNumber": 193141246,
    "printCheque": false,
    "prefix": [{"Text": {"text": "тексттекст"}}, {"QrCode": {"qrCode" : "BASE64"}}], 
    "suffix": [{"Text": {"text": "тексттекст"}}, {"QrCode": {"qrCode" : "BASE64"}}],
    "operationId": "123"
}`;

export const SEED_SUCCESS_RESPONSE = `{
    "dateTime": "2022-01-22T12:00:00+03:00",
    "messageDetail": "Успешная оплата",
    "messageTitle": "Успех",
    "numberCheck": "1234",
    "registerNumberSKO": "123456789",
    "resultCode": 200,
    "rrn": "",
    "type": "SALE",
    "uid": "461F60C220B2010407CF1091",
    "total": "7.97",
    "change": "7.03",
    "isPrintSuccess": true,
    "uuid": "j1923-123mi1-123j19",
    "payments": [
       {
           "type": "Cash",
           "sum": "15"
       }
    ]
}`;

export const SEED_NO_CASHIER_REQUEST = `{
    "itemList": [
        {
            "nameTitle": "Товар 1",
            "codeNumber": "1",
            "typeCode": "0",
            "price": "4",
            "amount": "1"
        },
        {
            "nameTitle": "Товар 2",
            "codeNumber": "10",
            "typeCode": "0",
            "price": "1",
            "amount": "9999.99",
            "isPercentDiscount": false,
            "discount": "9999.98"
        },
        {
            "codeNumber": "20",
            "price": "4",
            "amount": "1",
            "isPercentDiscount": true,
            "discount": "1"
        }
    ],
    "cash": "15",
    "cashless": "0",
    "certificate": "0"
}`;

export const SEED_NO_CASHIER_RESPONSE = `{
    "messageDetail": "Не передано имя кассира",
    "messageTitle": "Ошибка",
    "resultCode": 435,
    "type": "SALE"
}`;

export const SEED_PRICE_LIMIT_REQUEST = `{
    "cashier": "Кассир",
    "itemList": [
        {
            "nameTitle": "Товар 9999",
            "codeNumber": "999",
            "typeCode": "0",
            "price": "99999999",
            "amount": "9999.99",
            "isPercentDiscount": false,
            "discount": "9999.98"
        }
    ],
    "cash": "15",
    "cashless": "0",
    "certificate": "0"
}`;

export const SEED_PRICE_LIMIT_RESPONSE = `{
    "messageDetail": "Максимально допустимая цена 99999999999.99",
    "messageTitle": "Ошибка",
    "resultCode": 414,
    "type": "SALE"
}`;
