# Vietnamese translations for the certificates catalog (lms/certificates/translations),
# applied by tools/fill_po.py.
T = {
'Certificate code': 'Số hiệu giấy chứng nhận',
'Type the code printed on the certificate.': 'Hãy nhập số hiệu in trên giấy chứng nhận.',
'A certificate code has 17 characters.': 'Số hiệu giấy chứng nhận gồm 17 ký tự.',
'17 characters, as printed under the QR code, e.g. 7KQ4-M2XD-9TRA-WP3C-H. Dashes and capitals are optional.':
    'Gồm 17 ký tự, in dưới mã QR, ví dụ 7KQ4-M2XD-9TRA-WP3C-H. Không bắt buộc nhập dấu gạch ngang và chữ in hoa.',
'A certificate code has only digits and the letters A to Z without I, L, O and U. These characters cannot be part of one: %(chars)s':
    'Số hiệu giấy chứng nhận chỉ gồm chữ số và các chữ cái từ A đến Z, trừ I, L, O và U. Các ký tự sau không thể có trong số hiệu: %(chars)s',
'A certificate code has 17 characters; you typed %(num)s.':
    'Số hiệu giấy chứng nhận gồm 17 ký tự; bạn đã nhập %(num)s ký tự.',
'This code has a typing mistake: one character is wrong or two neighbouring characters are swapped. Compare it with the certificate once more.':
    'Số hiệu này bị nhập nhầm: có một ký tự sai hoặc hai ký tự liền nhau bị đảo chỗ. Hãy đối chiếu lại với giấy chứng nhận.',
'Reason for revoking': 'Lý do thu hồi',
'Give a reason: it is kept in the audit log.': 'Hãy nêu lý do; lý do được lưu trong nhật ký hệ thống.',
'Kept in the audit log; not shown on the public verification page.':
    'Được lưu trong nhật ký hệ thống; không hiển thị trên trang tra cứu công khai.',
"Holder's name as it should be printed": 'Họ và tên người được cấp (đúng như sẽ in)',
"Enter the holder's name.": 'Hãy nhập họ và tên người được cấp.',
'Agency as it should be printed': 'Đơn vị công tác (đúng như sẽ in)',
'What is corrected, and why': 'Nội dung đính chính và lý do',
'The certificate gets a new code; the old code will say it was replaced.':
    'Giấy chứng nhận sẽ có số hiệu mới; tra cứu số hiệu cũ sẽ báo đã được thay thế.',
'Agency': 'Cơ quan, đơn vị',
'Course': 'Khóa học',
'Status': 'Trạng thái',
'Name or code': 'Họ tên hoặc số hiệu',
'The reason is too long (at most %(num)s characters).': 'Lý do quá dài (tối đa %(num)s ký tự).',
'This certificate is already revoked.': 'Giấy chứng nhận này đã bị thu hồi.',
'A revoked certificate cannot be reissued.': 'Không thể cấp lại giấy chứng nhận đã bị thu hồi.',
'This certificate was already replaced; correct the newest one.':
    'Giấy chứng nhận này đã được thay thế; hãy đính chính trên bản mới nhất.',
'The name is too long (at most %(num)s characters).': 'Họ tên quá dài (tối đa %(num)s ký tự).',
'The agency name is too long (at most %(num)s characters).':
    'Tên đơn vị quá dài (tối đa %(num)s ký tự).',
'My certificates': 'Giấy chứng nhận của tôi',
'Certificates': 'Giấy chứng nhận',
'Too many unknown codes were tried from your address. Wait %(minutes)s minutes and try again.':
    'Từ địa chỉ của bạn đã tra cứu quá nhiều số hiệu không tồn tại. Vui lòng chờ %(minutes)s phút rồi thử lại.',
'No certificate has this code. Compare it with the certificate once more; if it is typed correctly, the certificate was not issued through this system.':
    'Không có giấy chứng nhận nào mang số hiệu này. Hãy đối chiếu lại với giấy chứng nhận; nếu đã nhập đúng thì giấy chứng nhận này không được cấp qua hệ thống.',
'This certificate was revoked; it can no longer be downloaded.':
    'Giấy chứng nhận này đã bị thu hồi nên không thể tải về nữa.',
'All agencies in my scope': 'Tất cả đơn vị trong phạm vi quản lý',
'All courses': 'Tất cả khóa học',
'Training plan': 'Kế hoạch bồi dưỡng',
'All plans': 'Tất cả kế hoạch',
'All but replaced ones': 'Tất cả (trừ bản đã thay thế)',
'Valid': 'Còn hiệu lực',
'Expiring soon': 'Sắp hết hạn',
'Expired': 'Đã hết hạn',
'Revoked': 'Đã thu hồi',
'Replaced': 'Đã được thay thế',
'The filters are not valid: %(errors)s': 'Điều kiện lọc không hợp lệ: %(errors)s',
'No certificate matches these filters: there is nothing to download.':
    'Không có giấy chứng nhận nào khớp điều kiện lọc nên không có gì để tải về.',
'Certificate %(code)s is revoked. Its verification page now says so.':
    'Đã thu hồi giấy chứng nhận %(code)s. Trang tra cứu nay hiển thị tình trạng này.',
'A corrected certificate was issued with code %(code)s; the old code now says it was replaced.':
    'Đã cấp giấy chứng nhận đính chính với số hiệu %(code)s; tra cứu số hiệu cũ sẽ báo đã được thay thế.',
'%(course)s: certificate valid until %(date)s. Take the course again before then.':
    '%(course)s: giấy chứng nhận có giá trị đến %(date)s. Hãy học lại khóa học trước thời hạn đó.',
'PDF': 'PDF',
'All my certificates': 'Tất cả giấy chứng nhận của tôi',
'Certificate (PDF)': 'Giấy chứng nhận (PDF)',
'Certificate %(code)s': 'Giấy chứng nhận %(code)s',
'Holder (as printed)': 'Người được cấp (như đã in)',
'Agency (as printed)': 'Đơn vị công tác (như đã in)',
'version %(num)s': 'phiên bản %(num)s',
'Study time': 'Thời lượng',
'%(hours)s hours': '%(hours)s giờ',
'Final score': 'Điểm bài kiểm tra cuối khóa',
'Completed on': 'Ngày hoàn thành',
'Issued on': 'Ngày cấp',
'Valid until': 'Có giá trị đến',
'No expiry date': 'Không thời hạn',
'Issued by': 'Cơ quan cấp',
'Signed by': 'Người ký',
'Language of the PDF': 'Ngôn ngữ của bản PDF',
'Not rendered yet: it is made on the first download.': 'Chưa tạo; bản PDF được tạo ở lần tải về đầu tiên.',
'Last rendering failed': 'Lần tạo PDF gần nhất bị lỗi',
'Download PDF': 'Tải PDF',
'Verification page': 'Trang tra cứu',
"Officer's transcript (PDF)": 'Bảng kết quả bồi dưỡng của cán bộ (PDF)',
'Code history': 'Lịch sử số hiệu',
'issued %(date)s': 'cấp ngày %(date)s',
'Reason for the correction:': 'Lý do đính chính:',
'Correct and reissue': 'Đính chính và cấp lại',
"For a misspelt name or agency. The corrected certificate gets a new code; the old code's verification page will say it was replaced, without showing the new details.":
    'Dùng khi họ tên hoặc đơn vị bị in sai. Giấy chứng nhận đính chính có số hiệu mới; trang tra cứu số hiệu cũ sẽ báo đã được thay thế mà không hiển thị thông tin mới.',
'Reissue with a new code': 'Cấp lại với số hiệu mới',
'Revoke': 'Thu hồi',
'Revoking cannot be undone. Anyone who checks the code will be told the certificate is revoked.':
    'Không thể hoàn tác việc thu hồi. Bất kỳ ai tra cứu số hiệu sẽ được báo giấy chứng nhận đã bị thu hồi.',
'Revoke this certificate': 'Thu hồi giấy chứng nhận này',
'Audit log': 'Nhật ký hệ thống',
'When': 'Thời gian',
'Who': 'Người thực hiện',
'Action': 'Thao tác',
'Details': 'Chi tiết',
'system': 'hệ thống',
('%(num)s certificate in your agencies expires within 60 days.',
 '%(num)s certificates in your agencies expire within 60 days.'):
    ('%(num)s giấy chứng nhận của cán bộ thuộc đơn vị bạn phụ trách sẽ hết hạn trong 60 ngày tới.',),
'Show them': 'Xem danh sách',
'Filter': 'Lọc',
('%(num)s certificate', '%(num)s certificates'): ('%(num)s giấy chứng nhận',),
'Download these as one ZIP': 'Tải tất cả (ZIP)',
'Holder': 'Người được cấp',
'Code': 'Mã',
'Actions': 'Thao tác',
'No certificate matches these filters.': 'Không có giấy chứng nhận nào khớp điều kiện lọc.',
'Download my transcript (PDF)': 'Tải bảng kết quả bồi dưỡng (PDF)',
('%(num)s certificate expires within 60 days: take the course again before it does.',
 '%(num)s certificates expire within 60 days: take the courses again before they do.'):
    ('%(num)s giấy chứng nhận sẽ hết hạn trong 60 ngày tới: hãy học lại trước khi hết hạn.',),
'You have no certificates yet. Complete a course that awards one and it appears here.':
    'Bạn chưa có giấy chứng nhận nào. Khi bạn hoàn thành khóa học có cấp giấy chứng nhận, giấy chứng nhận sẽ hiện ở đây.',
'The PDF is not ready': 'Bản PDF chưa sẵn sàng',
'Your certificate %(code)s is issued and valid, but its PDF could not be produced just now. The problem has been logged for the administrators. Try again later; meanwhile the verification page already confirms the certificate.':
    'Giấy chứng nhận %(code)s của bạn đã được cấp và có hiệu lực, nhưng hiện chưa tạo được bản PDF. Sự cố đã được ghi lại để quản trị viên xử lý. Vui lòng thử lại sau; trong lúc chờ, trang tra cứu vẫn xác nhận giấy chứng nhận này.',
'Verify a certificate': 'Tra cứu giấy chứng nhận',
'Valid certificate': 'Giấy chứng nhận hợp lệ',
'Expired certificate': 'Giấy chứng nhận đã hết hạn',
'Revoked certificate': 'Giấy chứng nhận đã bị thu hồi',
'Replaced certificate': 'Giấy chứng nhận đã được thay thế',
'This certificate is genuine and in force.': 'Giấy chứng nhận này là thật và đang có hiệu lực.',
'This certificate was genuine, but its validity ended on %(date)s. The holder needs to take the course again.':
    'Giấy chứng nhận này là thật nhưng đã hết hiệu lực ngày %(date)s. Người được cấp cần học lại khóa học.',
'This certificate was revoked on %(date)s and is no longer valid.':
    'Giấy chứng nhận này đã bị thu hồi ngày %(date)s và không còn giá trị.',
'This code belongs to a certificate that was corrected and replaced by a new one on %(date)s. It is no longer valid; ask the holder for the corrected certificate, which has a different code.':
    'Số hiệu này thuộc một giấy chứng nhận đã được đính chính và thay thế bằng giấy chứng nhận mới ngày %(date)s, nên không còn giá trị. Hãy đề nghị người được cấp xuất trình giấy chứng nhận đã đính chính (có số hiệu khác).',
"Compare the name with the holder's identity document. This page shows only what is printed on the certificate.":
    'Hãy đối chiếu họ tên với giấy tờ tùy thân của người được cấp. Trang này chỉ hiển thị những thông tin in trên giấy chứng nhận.',
'Checked at %(when)s.': 'Tra cứu lúc %(when)s.',
'Check another code': 'Tra cứu số hiệu khác',
'Type the code printed on the certificate, or scan its QR code with a phone camera.':
    'Nhập số hiệu in trên giấy chứng nhận, hoặc quét mã QR trên giấy bằng camera điện thoại.',
'Verify': 'Tra cứu',
}
